//! One operation per file.

mod aliases;
mod change_state;
mod create_key;
mod encrypt;
mod import_key_material;
mod list_keys;
mod rotate_key;
mod sign;
mod update_key;
