//! Terraform in drift: configuration files (`.tf`, [`config`]) and `terraform show -json`
//! documents of plans and states ([`show`]) become objects addressed as Terraform addresses
//! them (`module.web_cluster`, `aws_instance.web[0]`), which pair across environments by
//! address, or by `pairing.rs` when the environment is part of the name. `.tfvars` files are
//! read by the same HCL reader (`formats/hcl.rs`).
pub mod config;
pub mod show;
