//! Image checks (`PAL-IMG-nnn`): what a built image's config says about how it runs, and (the
//! image-hardening group) what its final filesystem ships: tools an attacker uses, setuid files,
//! world-writable paths, owners, SSH keys; plus its age, its OS's end of life and how it was named.

pub mod tools;

pub mod img_001_root_user;
pub mod img_002_ssh_port;
pub mod img_003_no_healthcheck;
pub mod img_004_secret_env;
pub mod img_005_shells;
pub mod img_006_package_managers;
pub mod img_007_network_tools;
pub mod img_008_build_tools;
pub mod img_009_setuid;
pub mod img_010_world_writable;
pub mod img_011_system_owner;
pub mod img_012_ssh_keys;
pub mod img_013_sshd_entrypoint;
pub mod img_014_old_image;
pub mod img_015_eol_base;
pub mod img_016_mutable_tag;
