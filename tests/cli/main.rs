//! End-to-end tests of the `leakhound` binary: real files, real processes, every format.

mod config;
mod extract;
mod git;
mod gitleaks;
mod hub;
mod reports;
mod rules;
mod scan;
mod util;
mod validate;
