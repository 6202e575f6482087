//! The envelope header parser: any bytes, no panic, bounded memory.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kms_envelope::fuzzing::header(data);
});
