//! The stream decryptor (detection, armor, header, stanzas, chunks) with a
//! fixed age identity: any bytes, no panic, only typed errors.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kms_envelope::fuzzing::decrypt(data);
});
