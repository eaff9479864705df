//! Accounts, products, rooms and drops: creating them, and closing a drop. These decisions only
//! add to the catalogue; what buyers do with a drop is in `sales`.

use super::decision::{Decision, ReadBack};
use super::{State, check_title, require_role};
use crate::limits::*;
use crate::{
    Account, AccountId, Actor, ContractState, Drop, DropId, DropPhase, Event, Fulfilment, Money, NewDrop, Partition,
    PartnerKind, Product, ProductId, Rejection, Role, Room, RoomId, TemplateId, Timestamp,
};

pub(super) fn check_handle(handle: &str) -> Result<(), Rejection> {
    let ok_chars = handle.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !(HANDLE_CHARS_MIN..=HANDLE_CHARS_MAX).contains(&handle.len()) || !ok_chars {
        return Err(Rejection::invalid(
            "handle",
            format!("must be {HANDLE_CHARS_MIN} to {HANDLE_CHARS_MAX} characters of a-z, 0-9 and _"),
        ));
    }
    Ok(())
}

impl State {
    pub(super) fn decide_create_account(
        &self,
        now: Timestamp,
        partition: Partition,
        handle: &str,
        role: Role,
        partner_kind: Option<PartnerKind>,
        token_sha256: &str,
    ) -> Result<Decision, Rejection> {
        check_handle(handle)?;
        if role == Role::Admin {
            return Err(Rejection::invalid("role", "must be buyer, creator or partner"));
        }
        if (role == Role::Partner) != partner_kind.is_some() {
            return Err(Rejection::invalid("partner_kind", "is required for partners and only for them"));
        }
        if self.handles.contains_key(handle) {
            return Err(Rejection::HandleTaken);
        }
        let id = AccountId(self.allocator(partition).next());
        let account = Account {
            id,
            handle: handle.to_owned(),
            role,
            token_sha256: token_sha256.to_owned(),
            created_at: now,
            partner_kind,
        };
        Ok(Decision::read_back(vec![Event::AccountCreated { account }], ReadBack::Account(id)))
    }

    #[allow(clippy::too_many_arguments)] // each is one field of the new product; a struct would only rename them
    pub(super) fn decide_create_product(
        &self,
        now: Timestamp,
        actor: &Actor,
        title: &str,
        price: Money,
        stock: u64,
        fulfilment: Fulfilment,
        edition: Option<&crate::Edition>,
    ) -> Result<Decision, Rejection> {
        require_role(actor, Role::Creator)?;
        check_title("title", title)?;
        if let Some(edition) = edition {
            let n_chars = edition.label.chars().count();
            if edition.label.trim().is_empty()
                || n_chars > EDITION_LABEL_CHARS_MAX
                || edition.label.chars().any(char::is_control)
            {
                return Err(Rejection::invalid(
                    "edition.label",
                    format!("must be 1 to {EDITION_LABEL_CHARS_MAX} printable characters"),
                ));
            }
        }
        if !(0..=PRICE_MINOR_MAX).contains(&price.minor) {
            return Err(Rejection::invalid("price_minor", format!("must be 0 to {PRICE_MINOR_MAX}")));
        }
        if stock > PRODUCT_STOCK_MAX {
            return Err(Rejection::invalid("stock", format!("must be 0 to {PRODUCT_STOCK_MAX}")));
        }
        let product_id = ProductId(self.allocator(actor.id.partition()).next());
        let product = Product {
            id: product_id,
            creator_id: actor.id,
            title: title.to_owned(),
            price,
            stock,
            allocated: 0,
            fulfilment,
            created_at: now,
            edition: edition.cloned(),
        };
        Ok(Decision::read_back(vec![Event::ProductCreated { product }], ReadBack::Product(product_id)))
    }

    pub(super) fn decide_create_room(
        &self,
        now: Timestamp,
        actor: &Actor,
        title: &str,
        template_id: Option<TemplateId>,
    ) -> Result<Decision, Rejection> {
        require_role(actor, Role::Creator)?;
        check_title("title", title)?;
        let (template, slots) = self.room_template(actor, template_id)?;
        let room_id = RoomId(self.allocator(actor.id.partition()).next());
        let room = Room {
            id: room_id,
            creator_id: actor.id,
            title: title.to_owned(),
            drop_ids: Vec::new(),
            created_at: now,
            template,
            slots,
            episode_ids: Vec::new(),
        };
        Ok(Decision::read_back(vec![Event::RoomCreated { room }], ReadBack::Room(room_id)))
    }

    pub(super) fn decide_create_drop(
        &self,
        now: Timestamp,
        actor: &Actor,
        new: &NewDrop,
    ) -> Result<Decision, Rejection> {
        let NewDrop {
            room_id,
            split_contract_id,
            product_id,
            quantity,
            per_buyer_limit,
            hold_seconds,
            opens_at,
            closes_at,
        } = *new;
        require_role(actor, Role::Creator)?;
        if !(1..=DROP_QUANTITY_MAX).contains(&quantity) {
            return Err(Rejection::invalid("quantity", format!("must be 1 to {DROP_QUANTITY_MAX}")));
        }
        if !(1..=PER_BUYER_LIMIT_MAX).contains(&per_buyer_limit) {
            return Err(Rejection::invalid("per_buyer_limit", format!("must be 1 to {PER_BUYER_LIMIT_MAX}")));
        }
        if !(HOLD_SECONDS_MIN..=HOLD_SECONDS_MAX).contains(&hold_seconds) {
            return Err(Rejection::invalid(
                "hold_seconds",
                format!("must be {HOLD_SECONDS_MIN} to {HOLD_SECONDS_MAX}"),
            ));
        }
        let opens_at = opens_at.unwrap_or(now);
        if opens_at.0 > now.0 + SCHEDULE_AHEAD_MS_MAX {
            return Err(Rejection::invalid("opens_at", "must be within a year from now"));
        }
        if let Some(closes_at) = closes_at {
            if closes_at <= opens_at.max(now) {
                return Err(Rejection::invalid("closes_at", "must be after opens_at and in the future"));
            }
            if closes_at.0 > opens_at.0 + SCHEDULE_AHEAD_MS_MAX {
                return Err(Rejection::invalid("closes_at", "must be within a year of opens_at"));
            }
        }
        let room = self.rooms.get(&room_id).ok_or(Rejection::NotFound)?;
        if room.creator_id != actor.id {
            return Err(Rejection::Forbidden);
        }
        let product = match self.products.get(&product_id) {
            Some(product) if product.creator_id == actor.id => product,
            _ => {
                return Err(Rejection::invalid("product_id", "no product of yours has this id"));
            }
        };
        let available = product.stock - product.allocated;
        if quantity > available {
            return Err(Rejection::InsufficientStock { available });
        }
        let contract = match split_contract_id {
            None => None,
            Some(contract_id) => match self.money.contracts.get(&contract_id) {
                Some(contract) if contract.creator_id == actor.id => {
                    if contract.state != ContractState::Accepted {
                        return Err(Rejection::SplitNotAccepted { state: contract.state });
                    }
                    Some(contract)
                }
                _ => return Err(Rejection::invalid("split_contract_id", "no split contract of yours has this id")),
            },
        };
        // An edition is sold with its curator: the drop's contract names the curator as one.
        if let Some(edition) = &product.edition {
            let shares = contract.map(|contract| contract.shares.as_slice()).unwrap_or(&[]);
            if !shares
                .iter()
                .any(|share| share.partner_id == edition.curator_id && share.kind == Some(crate::PartnerKind::Curator))
            {
                let message = "a curator's edition is dropped under a split contract that gives its curator a share";
                return Err(Rejection::invalid("split_contract_id", message));
            }
        }
        let drop = Drop {
            id: DropId(self.allocator(actor.id.partition()).next()),
            room_id,
            product_id,
            creator_id: actor.id,
            title: product.title.clone(),
            unit_price: product.price,
            quantity,
            remaining: quantity,
            held: 0,
            sold: 0,
            released: 0,
            per_buyer_limit,
            hold_ms: hold_seconds * 1_000,
            opens_at,
            closes_at,
            phase: DropPhase::Scheduled,
            created_at: now,
            split_contract_id,
        };
        let drop_id = drop.id;
        let mut events = vec![Event::DropCreated { drop }];
        if opens_at <= now {
            events.push(Event::DropOpened { drop_id, at: now });
        }
        Ok(Decision::read_back(events, ReadBack::Drop(drop_id)))
    }

    /// Closing a closed drop changes nothing and answers the drop as it is.
    pub(super) fn decide_close_drop(
        &self,
        now: Timestamp,
        actor: &Actor,
        drop_id: DropId,
    ) -> Result<Decision, Rejection> {
        let drop = self.drops.get(&drop_id).ok_or(Rejection::NotFound)?;
        if actor.role != Role::Admin && actor.id != drop.creator_id {
            return Err(Rejection::Forbidden);
        }
        if drop.phase == DropPhase::Closed {
            return Ok(Decision::read_back(Vec::new(), ReadBack::Drop(drop_id)));
        }
        let closed = Event::DropClosed { drop_id, at: now, by_creator: true };
        Ok(Decision::read_back(vec![closed], ReadBack::Drop(drop_id)))
    }
}
