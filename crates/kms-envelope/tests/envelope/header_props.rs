//! Properties of the header parser over arbitrary and mutated input.

use proptest::prelude::*;

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_parsed_headers_reencode(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = kms_envelope::fuzzing::header(&data);
        let mut with_magic = b"KMSENV\x01\x00\x00".to_vec();
        with_magic.extend_from_slice(&data);
        let _ = kms_envelope::fuzzing::header(&with_magic);
    }

    #[test]
    fn any_prefix_of_a_valid_header_asks_for_more_bytes(cut in 0usize..200) {
        let seed = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/envelope_header/ok_age_x25519")).unwrap();
        let len = kms_envelope::fuzzing::header(&seed).unwrap();
        let cut = cut.min(len - 1);
        prop_assert!(matches!(kms_envelope::format::parse_header(&seed[..cut]), Ok(None)));
    }
}
