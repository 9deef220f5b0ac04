//! Validators written in code, for signed protocols a request template cannot express: AWS
//! SigV4 (STS GetCallerIdentity), a GCP service-account JWT exchange, Azure Storage
//! SharedKey. A rule names one with `validate: {code: NAME}`.
//!
//! The signing functions are being written separately (`signed`); until they are merged these
//! validators report `unverifiable` ("validator not built yet") and send nothing.

use super::{not_sent, Context, Job, Outcome, Validation};
use crate::rules::{Rule, CODE_VALIDATORS};

/// The static name of a known code validator.
pub(super) fn lookup(name: &str) -> Option<&'static str> {
    CODE_VALIDATORS
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(known, _)| *known)
}

/// The hosts a code validator may contact (`*.` stands for an account's own label).
pub(super) fn hosts(name: &str) -> &'static [&'static str] {
    CODE_VALIDATORS
        .iter()
        .find(|(known, _)| *known == name)
        .map_or(&[], |(_, hosts)| hosts)
}

pub(super) fn check(_name: &str, _job: &Job, _rule: &Rule, _context: &Context) -> Validation {
    not_sent(Outcome::unverifiable("validator not built yet"))
}
