//! Image-config checks (`PAL-IMG-nnn`): what a built image's config says about how it runs.

pub mod img_001_root_user;
pub mod img_002_ssh_port;
pub mod img_003_no_healthcheck;
pub mod img_004_secret_env;
