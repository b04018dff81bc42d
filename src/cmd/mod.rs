//! Commands only wire the pipeline's steps together.

pub mod build;
pub mod check;
pub mod init;
pub mod new;
pub mod serve;
