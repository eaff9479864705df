//! The web client: a landing page, the buyer's room page, the host console and the partner page,
//! plain ES modules and CSS from `web/` at the repository root, embedded at compile time so the
//! binary serves them alone.
//! Every file is listed here by hand with its type; a name not in the list is the API's JSON 404.
//! Pages never carry a token in their path: the host console reads it from the URL fragment or a
//! sign-in form (the partner page likewise), the room page makes a buyer account and keeps its token
//! in localStorage.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::routes::path_id;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::RoomId;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/rooms/{id}", get(room))
        .route("/rooms/{id}/host", get(host))
        .route("/partner", get(partner))
        .route("/web/{*file}", get(file))
}

/// One embedded file.
pub(crate) struct Asset {
    /// The path under `/web/` (pages are served under their own routes too).
    pub(crate) name: &'static str,
    pub(crate) content_type: &'static str,
    pub(crate) body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset { name: $name, content_type: $type, body: include_bytes!(concat!("../../../../web/", $name)) }
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

pub(crate) const ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("room.html", HTML),
    asset!("host.html", HTML),
    asset!("partner.html", HTML),
    asset!("css/app.css", "text/css; charset=utf-8"),
    asset!("js/api.js", JS),
    asset!("js/countdown.js", JS),
    asset!("js/feed.js", JS),
    asset!("js/live.js", JS),
    asset!("js/media.js", JS),
    asset!("js/money.js", JS),
    asset!("js/products.js", JS),
    asset!("js/ui.js", JS),
    asset!("js/index.js", JS),
    asset!("js/fulfilment.js", JS),
    asset!("js/partner.js", JS),
    asset!("js/partner/fulfilment.js", JS),
    asset!("js/room.js", JS),
    asset!("js/room/account.js", JS),
    asset!("js/room/audio.js", JS),
    asset!("js/room/checkout.js", JS),
    asset!("js/room/demo.js", JS),
    asset!("js/room/drop.js", JS),
    asset!("js/room/fulfilment.js", JS),
    asset!("js/room/offline.js", JS),
    asset!("js/room/polls.js", JS),
    asset!("js/room/questions.js", JS),
    asset!("js/room/receipt.js", JS),
    asset!("js/room/replays.js", JS),
    asset!("js/room/stage.js", JS),
    asset!("js/room/state.js", JS),
    asset!("js/host.js", JS),
    asset!("js/host/demo.js", JS),
    asset!("js/host/drops.js", JS),
    asset!("js/host/earnings.js", JS),
    asset!("js/host/episode.js", JS),
    asset!("js/host/mic.js", JS),
    asset!("js/host/polls.js", JS),
    asset!("js/host/products.js", JS),
    asset!("js/host/questions.js", JS),
    asset!("js/host/signin.js", JS),
    asset!("js/host/stage.js", JS),
    asset!("js/host/state.js", JS),
    asset!("icon.svg", "image/svg+xml"),
];

/// Pages and modules change with the binary, not on a schedule: browsers revalidate every time and
/// get a 304 while the ETag (a hash of the bytes) matches.
const CACHE_CONTROL: &str = "no-cache";
/// Scripts, styles, media and connections only from this server (the live feed and WHIP/WHEP are
/// same-origin); nothing may frame the pages. `media-src 'self'` lets the room page's replays play
/// the recordings (`/v1/episodes/{id}/recordings/{file}`); the live tracks are `mediastream:`.
/// `img-src blob:` shows the buyer's pickup QR code, fetched with the bearer token.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
     media-src 'self' blob: mediastream:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn find(name: &str) -> Option<(usize, &'static Asset)> {
    ASSETS.iter().enumerate().find(|(_, asset)| asset.name == name)
}

fn etag(index: usize) -> &'static str {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    let etags = ETAGS.get_or_init(|| {
        ASSETS.iter().map(|asset| format!("\"{}\"", &hex::encode(Sha256::digest(asset.body))[..20])).collect()
    });
    &etags[index]
}

fn serve(name: &str, request: &HeaderMap) -> Response {
    let Some((index, asset)) = find(name) else {
        return ApiError::not_found().into_response();
    };
    let etag = etag(index);
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL));
    headers.insert(header::ETAG, HeaderValue::from_static(etag));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if asset.content_type == HTML {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    }
    let matches = request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"));
    if matches {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    (StatusCode::OK, headers, asset.body).into_response()
}

/// `GET /`: what livedrop is, and a form to open a room.
pub(crate) async fn index(request: HeaderMap) -> Response {
    serve("index.html", &request)
}

/// `GET /rooms/{id}`: the buyer's room page. A malformed room id is a 404 like any unknown path; a
/// well-formed id of no room is the page's to say.
pub(crate) async fn room(ApiPath(room_id): ApiPath, request: HeaderMap) -> Result<Response, ApiError> {
    let _: RoomId = path_id(&room_id)?;
    Ok(serve("room.html", &request))
}

/// `GET /rooms/{id}/host`: the host console.
pub(crate) async fn host(ApiPath(room_id): ApiPath, request: HeaderMap) -> Result<Response, ApiError> {
    let _: RoomId = path_id(&room_id)?;
    Ok(serve("host.html", &request))
}

/// `GET /partner`: the partner page (venues, logistics partners, curators): balances, payouts and
/// the split contracts naming the partner signed in.
pub(crate) async fn partner(request: HeaderMap) -> Response {
    serve("partner.html", &request)
}

/// `GET /web/{file}`: the modules, styles and icon. Pages are served by their routes above.
pub(crate) async fn file(ApiPath(name): ApiPath, request: HeaderMap) -> Response {
    if name.ends_with(".html") {
        return ApiError::not_found().into_response();
    }
    serve(&name, &request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_typed_by_its_extension() {
        for asset in ASSETS {
            let extension = asset.name.rsplit('.').next().unwrap();
            let expected = match extension {
                "html" => HTML,
                "js" => JS,
                "css" => "text/css; charset=utf-8",
                "svg" => "image/svg+xml",
                other => panic!("no type for .{other}"),
            };
            assert_eq!(asset.content_type, expected, "{}", asset.name);
            assert!(!asset.body.is_empty(), "{} is empty", asset.name);
        }
    }

    /// Every `/web/…` a page or module names, and every relative module import, is in the list, so
    /// a file added to `web/` and forgotten here fails the build's tests rather than a browser.
    #[test]
    fn every_referenced_file_is_embedded() {
        for asset in ASSETS {
            let text = std::str::from_utf8(asset.body).unwrap();
            let mut referenced: Vec<String> = Vec::new();
            for (at, _) in text.match_indices("/web/") {
                let rest = &text[at + "/web/".len()..];
                let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || "._-/".contains(c))).unwrap_or(rest.len());
                referenced.push(rest[..end].to_owned());
            }
            for (at, _) in text.match_indices("from './") {
                let rest = &text[at + "from './".len()..];
                let end = rest.find('\'').unwrap();
                referenced.push(format!("js/{}", &rest[..end]));
            }
            for name in referenced {
                assert!(find(&name).is_some(), "{} names /web/{name}, which is not embedded", asset.name);
            }
        }
    }

    /// The room page plays live tracks and this server's recordings (replays), and nothing else.
    #[test]
    fn pages_may_play_media_from_this_server_only() {
        let media = CONTENT_SECURITY_POLICY
            .split(';')
            .map(str::trim)
            .find_map(|directive| directive.strip_prefix("media-src "))
            .expect("a media-src directive");
        let sources: Vec<&str> = media.split_whitespace().collect();
        assert_eq!(sources, ["'self'", "blob:", "mediastream:"]);
        let response = serve("room.html", &HeaderMap::new());
        assert_eq!(response.headers()[header::CONTENT_SECURITY_POLICY], CONTENT_SECURITY_POLICY);
    }

    #[test]
    fn etags_differ_per_file_and_revalidate() {
        let (index, _) = find("js/api.js").unwrap();
        let mut request = HeaderMap::new();
        request.insert(header::IF_NONE_MATCH, HeaderValue::from_static(etag(index)));
        assert_eq!(serve("js/api.js", &request).status(), StatusCode::NOT_MODIFIED);
        assert_eq!(serve("js/live.js", &request).status(), StatusCode::OK);
        assert_eq!(serve("js/nope.js", &HeaderMap::new()).status(), StatusCode::NOT_FOUND);
    }
}
