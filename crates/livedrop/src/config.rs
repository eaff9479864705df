//! Configuration in two steps: `ServeArgs` is what the command line said, `Config` is what was
//! checked and defaulted.

use anyhow::{Context, bail};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

#[derive(clap::Parser)]
#[command(name = "livedrop", version, about = "Live drops in audio rooms: claim, hold, check out")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Subcommand,
}

#[derive(clap::Subcommand)]
pub(crate) enum Subcommand {
    /// Run the API, the live feed and the engine on an embedded journal.
    Serve(Box<ServeArgs>),
    /// Check a checkout receipt offline: its signatures, its inclusion proofs, that it is this order's.
    Verify(VerifyArgs),
    /// Download a drop's whole transparency log and check it: every checkpoint, no unit sold twice,
    /// no buyer over the limit.
    Audit(AuditArgs),
}

#[derive(clap::Args)]
pub(crate) struct VerifyArgs {
    /// The receipt as checkout returned it (the `receipt` object or the whole response); `-` is stdin.
    pub(crate) receipt: PathBuf,
    /// The server's public key (base64, from GET /v1/transparency/keys). Without it the key the
    /// receipt carries is used, which proves the receipt intact but not that the server signed it.
    #[arg(long)]
    pub(crate) pubkey: Option<String>,
}

#[derive(clap::Args)]
pub(crate) struct AuditArgs {
    /// The drop's URL, such as http://127.0.0.1:8080/v1/drops/drp_…
    pub(crate) drop_url: String,
    /// The server's public key (base64); without it the key the server lists is used, and said so.
    #[arg(long)]
    pub(crate) pubkey: Option<String>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "LIVEDROP_LISTEN")]
    listen: SocketAddr,
    /// Directory of the journal (unless --journal names another place), the transparency signing
    /// key and the recordings; created if missing.
    #[arg(long, default_value = "./livedrop-data", env = "LIVEDROP_DATA_DIR")]
    data_dir: PathBuf,
    /// Keep the journal in PostgreSQL: `postgres://user[:password]@host[:port]/database`, tables in
    /// the first schema of the search path (`?options=-c%20search_path%3Dlivedrop` picks one).
    /// Default: SQLite in the data directory. Prefer the environment variable to the flag when the URL
    /// holds a password (the flag shows in `ps`); `--help` never prints its value.
    #[arg(long, env = "LIVEDROP_JOURNAL", hide_env_values = true)]
    journal: Option<String>,
    /// Seed a creator, a buyer, a room, a product and a drop opening a minute after start.
    #[arg(long)]
    demo: bool,
    /// Requests per second per client IP (burst twice that); 0 turns the limit off.
    #[arg(long, default_value_t = 100, env = "LIVEDROP_RATE_LIMIT_PER_IP")]
    rate_limit_per_ip: u32,
    /// Requests per second per account (burst twice that); 0 turns the limit off.
    #[arg(long, default_value_t = 20, env = "LIVEDROP_RATE_LIMIT_PER_ACCOUNT")]
    rate_limit_per_account: u32,
    /// Accounts created per second by all callers together (burst twice that); 0 turns the limit off.
    #[arg(long, default_value_t = server::SIGNUPS_PER_SECOND_DEFAULT, env = "LIVEDROP_SIGNUPS_PER_SECOND")]
    signups_per_second: u32,
    /// Open HTTP connections per client IP; 0 turns the cap off (load tests from one address).
    #[arg(long, default_value_t = server::CONNECTIONS_PER_IP_DEFAULT, env = "LIVEDROP_CONNECTIONS_PER_IP")]
    connections_per_ip: u32,
    /// Listening (WHEP) sessions per client IP; 0 turns the cap off.
    #[arg(long, default_value_t = media::LISTENERS_PER_IP_DEFAULT, env = "LIVEDROP_MEDIA_LISTENERS_PER_IP")]
    media_listeners_per_ip: usize,
    /// Live-feed WebSockets per client IP; 0 turns the cap off.
    #[arg(long, default_value_t = server::LIVE_CONNECTIONS_PER_IP_DEFAULT, env = "LIVEDROP_LIVE_CONNECTIONS_PER_IP")]
    live_connections_per_ip: u32,
    /// Seconds a client may take to send a request head, or a body, and may stay idle between requests.
    #[arg(long, default_value_t = server::HEADER_READ_TIMEOUT_DEFAULT.as_secs(), env = "LIVEDROP_IDLE_TIMEOUT_SECS")]
    idle_timeout_secs: u64,
    /// Engine shards (single-writer tasks); defaults to the number of cores, at most 64.
    #[arg(long, env = "LIVEDROP_SHARDS")]
    shards: Option<usize>,
    /// A platform admin, `NAME=TOKEN` (a bare `TOKEN` is the admin named `admin`); repeat for
    /// several. Each name is an account of its own in the journal. Admin tokens are never self-issued.
    #[arg(long = "admin-token", env = "LIVEDROP_ADMIN_TOKENS", value_delimiter = ',')]
    admin_tokens: Vec<String>,
    /// A file of platform admins, `NAME=TOKEN` one per line (`#` starts a comment), so that no
    /// secret needs to be on the command line, where every local user can read it in the process list.
    #[arg(long, env = "LIVEDROP_ADMIN_TOKEN_FILE")]
    admin_token_file: Option<PathBuf>,
    /// Refunds of more than this many minor units of the order's currency (5000: 50.00 EUR or USD)
    /// need a platform admin's and the creator's approval; smaller ones are paid back at once.
    #[arg(long, default_value_t = domain::REFUND_APPROVAL_THRESHOLD_MINOR_DEFAULT, env = "LIVEDROP_REFUND_APPROVAL_THRESHOLD_MINOR",
        value_parser = clap::value_parser!(i64).range(0..))]
    refund_approval_threshold_minor: i64,
    /// The platform's fee on each sale, in basis points (1000: 10 %); journaled with every sale.
    #[arg(long, default_value_t = domain::PLATFORM_FEE_BPS_DEFAULT, env = "LIVEDROP_PLATFORM_FEE_BPS",
        value_parser = clap::value_parser!(u32).range(0..=10_000))]
    platform_fee_bps: u32,
    /// Days after a sale until its earnings are available, for payees without a profile an admin
    /// set (0: at the next settlement window, "same day").
    #[arg(long, default_value_t = 7, env = "LIVEDROP_PAYOUT_DELAY_DAYS",
        value_parser = clap::value_parser!(u32).range(0..=365))]
    payout_delay_days: u32,
    /// Payouts below this many minor units wait for a later window.
    #[arg(long, default_value_t = domain::PAYOUT_MINIMUM_MINOR_DEFAULT, env = "LIVEDROP_PAYOUT_MINIMUM_MINOR",
        value_parser = clap::value_parser!(i64).range(1..))]
    payout_minimum_minor: i64,
    /// Close a settlement window every this long (`30m`, `1h`, `1d`; on the multiples since the
    /// epoch, so `1d` closes at 00:00 UTC), or `off` to close only on an admin's request.
    /// Defaults to `1d`, and to `1h` with --demo.
    #[arg(long, env = "LIVEDROP_SETTLEMENT_EVERY")]
    settlement_every: Option<String>,
    /// Log format on stderr; the level comes from RUST_LOG (default info).
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Names this server in the drop logs' signed checkpoints (`<origin>/drops/<drop id>`); use the
    /// public host name. Changing it later starts new checkpoints under the new name.
    #[arg(long, default_value = "livedrop", env = "LIVEDROP_LOG_ORIGIN")]
    log_origin: String,
    /// UDP address of the audio SFU, shared by every WebRTC session; defaults to the --listen IP
    /// with a port the OS picks (logged at start).
    #[arg(long, env = "LIVEDROP_MEDIA_LISTEN")]
    media_listen: Option<SocketAddr>,
    /// The IP clients reach the SFU at, put in its ICE candidate: needed when --media-listen is a
    /// wildcard (0.0.0.0) or behind 1:1 NAT.
    #[arg(long, env = "LIVEDROP_MEDIA_PUBLIC_IP")]
    media_public_ip: Option<IpAddr>,
    /// Do not record speakers (by default each one's audio goes to <data-dir>/recordings/<episode>/).
    #[arg(long)]
    no_recordings: bool,
    /// Deliver webhooks to loopback, private and link-local addresses too (a receiver on this host
    /// or network). Off by default, so users cannot point the server at its own network.
    #[arg(long, env = "LIVEDROP_WEBHOOKS_ALLOW_PRIVATE")]
    webhooks_allow_private: bool,
}

pub(crate) struct Config {
    pub(crate) listen: SocketAddr,
    pub(crate) data_dir: PathBuf,
    pub(crate) journal: engine::JournalLocation,
    pub(crate) demo: bool,
    pub(crate) webhooks_allow_private: bool,
    pub(crate) rate_limit_per_ip: u32,
    pub(crate) rate_limit_per_account: u32,
    pub(crate) signups_per_second: u32,
    pub(crate) connections_per_ip: u32,
    pub(crate) live_connections_per_ip: u32,
    pub(crate) idle_timeout: std::time::Duration,
    pub(crate) n_shards: usize,
    pub(crate) admin_tokens: Vec<engine::AdminToken>,
    pub(crate) refund_approval_threshold_minor: i64,
    pub(crate) log_format: LogFormat,
    pub(crate) log_origin: String,
    pub(crate) media: media::MediaConfig,
    pub(crate) money: engine::MoneyConfig,
}

/// `30m`, `1h`, `1d` (seconds, minutes, hours, days), or `off`.
fn parse_every(text: &str) -> anyhow::Result<Option<std::time::Duration>> {
    if text == "off" {
        return Ok(None);
    }
    let split = text.len().saturating_sub(1);
    let (number, unit) = text.split_at(split);
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => bail!("--settlement-every must be a number and a unit (s, m, h, d), such as 1d, or off"),
    };
    let number: u64 = number.parse().context("--settlement-every must start with a whole number")?;
    let every = number * seconds;
    if !(60..=31 * 86_400).contains(&every) {
        bail!("--settlement-every must be 1 minute to 31 days, or off");
    }
    Ok(Some(std::time::Duration::from_secs(every)))
}

/// An idle connection longer than this is a held file, not a client being patient.
const IDLE_TIMEOUT_SECS_MAX: u64 = 3_600;

/// An origin is one line of a signed note: printable ASCII without spaces.
const LOG_ORIGIN_CHARS_MAX: usize = 200;

/// Admin tokens guard everything; a short one is a configuration mistake, not a preference.
const ADMIN_TOKEN_CHARS_MIN: usize = 24;

/// `NAME=TOKEN`, where NAME is a handle (3 to 32 of a-z, 0-9 and _); anything else, a base64 token
/// with its `=` padding included, is a bare token of the admin named `admin`.
fn admin_token(line: &str) -> engine::AdminToken {
    let is_name = |name: &str| {
        let chars_ok = name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        (domain::HANDLE_CHARS_MIN..=domain::HANDLE_CHARS_MAX).contains(&name.len()) && chars_ok
    };
    match line.split_once('=') {
        Some((name, token)) if is_name(name) => engine::AdminToken::new(name, token),
        _ => engine::AdminToken::new(engine::DEFAULT_ADMIN_NAME, line),
    }
}

impl TryFrom<ServeArgs> for Config {
    type Error = anyhow::Error;

    fn try_from(args: ServeArgs) -> anyhow::Result<Config> {
        let default_shards = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let n_shards = args.shards.unwrap_or(default_shards.min(engine::SHARDS_MAX));
        if !(1..=engine::SHARDS_MAX).contains(&n_shards) {
            bail!("--shards must be 1 to {}", engine::SHARDS_MAX);
        }
        let mut admin_tokens = args.admin_tokens;
        if let Some(path) = &args.admin_token_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the admin token file {}", path.display()))?;
            let lines = text.lines().map(|line| line.split('#').next().unwrap_or("").trim());
            admin_tokens.extend(lines.filter(|token| !token.is_empty()).map(str::to_owned));
        }
        let admin_tokens: Vec<engine::AdminToken> = admin_tokens.iter().map(|line| admin_token(line)).collect();
        for (idx, admin) in admin_tokens.iter().enumerate() {
            if admin.token.len() < ADMIN_TOKEN_CHARS_MIN {
                bail!(
                    "admin tokens must be at least {ADMIN_TOKEN_CHARS_MIN} characters (admin {:?} got one of {})",
                    admin.name,
                    admin.token.len()
                );
            }
            if admin_tokens[..idx].iter().any(|earlier| earlier.token == admin.token) {
                bail!("admin {:?}: a token is configured twice; each admin needs tokens of its own", admin.name);
            }
            let n_tokens = admin_tokens.iter().filter(|each| each.name == admin.name).count();
            if n_tokens > domain::ACCOUNT_TOKENS_MAX {
                bail!("admin {:?}: at most {} tokens", admin.name, domain::ACCOUNT_TOKENS_MAX);
            }
        }
        let origin = &args.log_origin;
        if origin.is_empty() || origin.len() > LOG_ORIGIN_CHARS_MAX || !origin.bytes().all(|b| b.is_ascii_graphic()) {
            bail!("--log-origin must be 1 to {LOG_ORIGIN_CHARS_MAX} printable ASCII characters without spaces");
        }
        if !(1..=IDLE_TIMEOUT_SECS_MAX).contains(&args.idle_timeout_secs) {
            bail!("--idle-timeout-secs must be 1 to {IDLE_TIMEOUT_SECS_MAX}");
        }
        let media = media::MediaConfig {
            listeners_per_ip_max: args.media_listeners_per_ip,
            ..media::MediaConfig::new(
                args.media_listen.unwrap_or(SocketAddr::new(args.listen.ip(), 0)),
                args.media_public_ip,
                (!args.no_recordings).then(|| args.data_dir.join("recordings")),
            )
        };
        let journal = match args.journal {
            None => engine::JournalLocation::Sqlite(args.data_dir.clone()),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                engine::JournalLocation::Postgres(url)
            }
            Some(_) => bail!("--journal takes a postgres:// URL; without it the journal is SQLite in --data-dir"),
        };
        let default_every = if args.demo { "1h" } else { "1d" };
        let money = engine::MoneyConfig {
            platform_fee_bps: args.platform_fee_bps,
            default_profile: domain::PayoutProfile {
                delay_days: args.payout_delay_days,
                ..domain::PayoutProfile::SAME_DAY
            },
            payout_minimum_minor: args.payout_minimum_minor,
            settlement_every: parse_every(args.settlement_every.as_deref().unwrap_or(default_every))?,
        };
        Ok(Config {
            money,
            media,
            listen: args.listen,
            data_dir: args.data_dir,
            journal,
            demo: args.demo,
            webhooks_allow_private: args.webhooks_allow_private,
            rate_limit_per_ip: args.rate_limit_per_ip,
            rate_limit_per_account: args.rate_limit_per_account,
            signups_per_second: args.signups_per_second,
            connections_per_ip: args.connections_per_ip,
            live_connections_per_ip: args.live_connections_per_ip,
            idle_timeout: std::time::Duration::from_secs(args.idle_timeout_secs),
            n_shards,
            admin_tokens,
            refund_approval_threshold_minor: args.refund_approval_threshold_minor,
            log_format: args.log_format,
            log_origin: args.log_origin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn serve(args: &[&str]) -> anyhow::Result<Config> {
        let cli = Cli::try_parse_from([&["livedrop", "serve"], args].concat()).expect("the flags parse");
        let Subcommand::Serve(serve) = cli.command else { panic!("not serve") };
        Config::try_from(*serve)
    }

    #[test]
    fn admin_tokens_come_from_a_file_beside_the_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("admins");
        std::fs::write(
            &file,
            "# platform admins\nfirst-admin-token-0123456789\n\nsecond-admin-token-0123456789 # ops\n",
        )
        .unwrap();
        let config = serve(&["--admin-token-file", file.to_str().unwrap()]).unwrap();
        let admin = |name: &str, token: &str| engine::AdminToken::new(name, token);
        assert_eq!(
            config.admin_tokens,
            [admin("admin", "first-admin-token-0123456789"), admin("admin", "second-admin-token-0123456789")]
        );
        std::fs::write(&file, "short\n").unwrap();
        let error = serve(&["--admin-token-file", file.to_str().unwrap()]).err().unwrap().to_string();
        assert!(error.contains("at least 24 characters"), "{error}");
        let missing = serve(&["--admin-token-file", "/nonexistent/admins"]).err().unwrap().to_string();
        assert!(missing.contains("reading the admin token file"), "{missing}");
    }

    #[test]
    fn the_journal_is_sqlite_in_the_data_directory_or_a_postgres_url() {
        let journal = |args: &[&str]| serve(args).map(|config| config.journal);
        assert_eq!(journal(&["--data-dir", "/srv/ld"]).unwrap(), engine::JournalLocation::Sqlite("/srv/ld".into()));
        let url = "postgres://livedrop:secret@db.internal:5433/livedrop";
        let location = journal(&["--journal", url]).unwrap();
        assert_eq!(location, engine::JournalLocation::Postgres(url.into()));
        assert_eq!(location.to_string(), "PostgreSQL at livedrop@db.internal:5433/livedrop", "no password");
        let error = journal(&["--journal", "/var/lib/journal.sqlite3"]).err().unwrap().to_string();
        assert!(error.contains("postgres://"), "{error}");
    }

    #[test]
    fn settlement_windows_are_a_duration_or_off() {
        let every = |flag: &str| serve(&["--settlement-every", flag]).map(|config| config.money.settlement_every);
        assert_eq!(every("1d").unwrap(), Some(std::time::Duration::from_secs(86_400)));
        assert_eq!(every("30m").unwrap(), Some(std::time::Duration::from_secs(1_800)));
        assert_eq!(every("off").unwrap(), None);
        for bad in ["", "d", "1w", "10s", "1.5h", "40d"] {
            assert!(every(bad).is_err(), "{bad}");
        }
        assert_eq!(serve(&[]).unwrap().money.settlement_every, Some(std::time::Duration::from_secs(86_400)));
        assert_eq!(serve(&["--demo"]).unwrap().money.settlement_every, Some(std::time::Duration::from_secs(3_600)));
    }

    #[test]
    fn admin_tokens_are_named_or_the_admin_named_admin() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("admins");
        let padded = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3=";
        std::fs::write(&file, format!("alice=alice-admin-token-0123456789\n{padded}\n")).unwrap();
        let path = file.to_str().unwrap();
        let config = serve(&["--admin-token-file", path, "--admin-token", "bob_2=bob-admin-token-0123456789"]).unwrap();
        let admin = |name: &str, token: &str| engine::AdminToken::new(name, token);
        assert_eq!(
            config.admin_tokens,
            [
                admin("bob_2", "bob-admin-token-0123456789"),
                admin("alice", "alice-admin-token-0123456789"),
                admin("admin", padded),
            ]
        );
        let error = serve(&["--admin-token", "alice=short-token"]).err().unwrap().to_string();
        assert!(error.contains("at least 24 characters") && error.contains("alice"), "{error}");
        let twice =
            ["--admin-token", "alice=same-admin-token-0123456789", "--admin-token", "bob=same-admin-token-0123456789"];
        let error = serve(&twice).err().unwrap().to_string();
        assert!(error.contains("configured twice"), "{error}");
    }
}
