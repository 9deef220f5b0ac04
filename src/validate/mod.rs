//! Live validation: asks a provider whether a found secret still works.
//!
//! This module holds the protocols that need a signature computed from the secret (AWS SigV4,
//! a GCP service-account JWT, an Azure Storage SharedKey) as pure functions: they build the
//! request and read the answer, and never touch the network, so they are tested offline against
//! published vectors.

pub mod signed;
