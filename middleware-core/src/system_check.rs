//! Django's `manage.py check`: the checks registered on a [`Registry`] and the chain's own,
//! which builds the chain (so it lives beside neither, and neither imports the other).

use crate::chain::{Chain, EntryStatus};
use crate::checks::{CheckContext, CheckMessage};
use crate::registry::Registry;
use crate::settings::Settings;

impl Registry {
    /// Runs every registered check (and the deploy checks when `deploy`), most serious first:
    /// Django's `manage.py check [--deploy]`.
    pub fn run_checks(&self, settings: &Settings, deploy: bool) -> Vec<CheckMessage> {
        let same = |a: &str, b: &str| self.same(a, b);
        let ctx = CheckContext::new(settings, &same, deploy);
        let mut out: Vec<CheckMessage> = self
            .checks
            .iter()
            .filter(|(_, is_deploy)| deploy || !is_deploy)
            .flat_map(|(check, _)| check(&ctx))
            .collect();
        // The chain's own check, run here rather than registered: a check function sees the
        // settings, not the registry, and this one builds the chain.
        out.extend(protections_check(self, settings));
        out.sort_by(|a, b| b.level.cmp(&a.level).then_with(|| a.id.cmp(&b.id)));
        out
    }
}

/// The system check behind the fail-closed rule (`middleware.W001`): a protection that
/// enforces itself in `process_view` (registered with `needs_process_view`) is listed in
/// `MIDDLEWARE` but its factory answered "not used", so nothing it protects is checked. (A
/// listed protection that is built always runs: every end of a chain runs `process_view`, and
/// one whose `process_view` is the trait's default answers 500.) A chain that cannot be built
/// reports nothing here: building it reports the reason.
fn protections_check(registry: &Registry, settings: &Settings) -> Vec<CheckMessage> {
    let Ok(chain) = Chain::builder(registry, settings).build() else {
        return Vec::new();
    };
    chain
        .entries()
        .iter()
        .filter(|entry| {
            registry
                .entry(&entry.name)
                .is_some_and(|(_, registered)| registered.needs_view_hook)
        })
        .filter_map(|entry| match &entry.status {
            EntryStatus::NotUsed(reason) => Some(CheckMessage::warning(
                "middleware.W001",
                format!(
                    "{:?} is listed in MIDDLEWARE but not used{}: the protection it enforces in process_view is off.",
                    entry.name,
                    reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
                ),
                Some("Remove it from MIDDLEWARE if that is intended, or fix the setting that turns it off."),
            )),
            EntryStatus::Active => None,
        })
        .collect()
}
