//! Templates: a creator's named, versioned list of slots that a new room copies. Kept apart because a
//! template belongs to its creator, not to a room, and is only read again when a room is built.

use super::{check_name, check_poll};
use crate::limits::*;
use crate::state::decision::{Decision, ReadBack};
use crate::state::{State, require_role};
use crate::{Actor, Event, Rejection, Role, Slot, Template, TemplateId, TemplateRef, Timestamp};

impl State {
    pub(in crate::state) fn decide_save_template(
        &self,
        now: Timestamp,
        actor: &Actor,
        name: &str,
        slots: &[Slot],
    ) -> Result<Decision, Rejection> {
        require_role(actor, Role::Creator)?;
        check_name("name", name, TEMPLATE_NAME_CHARS_MAX)?;
        if slots.is_empty() || slots.len() > TEMPLATE_SLOTS_MAX {
            return Err(Rejection::invalid("slots", format!("must hold 1 to {TEMPLATE_SLOTS_MAX} slots")));
        }
        for (slot_idx, slot) in slots.iter().enumerate() {
            self.check_slot(actor, slot_idx, slot)?;
        }
        let n_versions = self.room_book.versions.get(&(actor.id, name.to_owned())).map_or(0, Vec::len) as u32;
        if n_versions >= TEMPLATE_VERSIONS_MAX {
            return Err(Rejection::invalid(
                "name",
                format!("a template may have at most {TEMPLATE_VERSIONS_MAX} versions"),
            ));
        }
        let template_id = TemplateId(self.allocator(actor.id.partition()).next());
        let template = Template {
            id: template_id,
            creator_id: actor.id,
            name: name.to_owned(),
            version: n_versions + 1,
            slots: slots.to_vec(),
            created_at: now,
        };
        Ok(Decision::read_back(vec![Event::TemplateSaved { template }], ReadBack::Template(template_id)))
    }

    fn check_slot(&self, actor: &Actor, slot_idx: usize, slot: &Slot) -> Result<(), Rejection> {
        if let Some(product_id) = slot.product_id()
            && self.products.get(&product_id).is_none_or(|product| product.creator_id != actor.id)
        {
            return Err(Rejection::invalid(&format!("slots[{slot_idx}].product_id"), "not one of your products"));
        }
        match slot {
            Slot::Demo { seconds, .. } if !DEMO_SECONDS_ALLOWED.contains(seconds) => {
                let [short, long] = DEMO_SECONDS_ALLOWED;
                Err(Rejection::invalid(&format!("slots[{slot_idx}].seconds"), format!("must be {short} or {long}")))
            }
            Slot::Poll { question, options } => check_poll(&format!("slots[{slot_idx}]."), question, options),
            _ => Ok(()),
        }
    }

    /// The template a new room is built from: the caller's own.
    pub(in crate::state) fn room_template(
        &self,
        actor: &Actor,
        template_id: Option<TemplateId>,
    ) -> Result<(Option<TemplateRef>, Vec<Slot>), Rejection> {
        let Some(template_id) = template_id else { return Ok((None, Vec::new())) };
        let template = self.room_book.templates.get(&template_id).ok_or(Rejection::NotFound)?;
        if template.creator_id != actor.id {
            return Err(Rejection::Forbidden);
        }
        Ok((Some(TemplateRef { id: template.id, version: template.version }), template.slots.clone()))
    }
}
