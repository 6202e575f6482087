use super::*;

fn header() -> CiphertextHeader {
    CiphertextHeader {
        algorithm: CiphertextAlgorithm::Aes256Gcm,
        key_id: KeyId::from_bytes([7; 16]),
        version: 3,
    }
}

#[test]
fn header_round_trips_and_text_form_round_trips() {
    let mut blob = header().to_bytes().to_vec();
    blob.extend_from_slice(&[0u8; 40]);
    let (h, body) = CiphertextHeader::parse(&blob).unwrap();
    assert_eq!(h, header());
    assert_eq!(body.len(), 40);
    let text = to_text(&blob);
    assert!(text.starts_with("kms:v1:"));
    assert_eq!(from_text(&text).unwrap(), blob);
    assert_eq!(from_text_or_binary(&blob).unwrap(), blob);
    assert_eq!(from_text_or_binary(text.as_bytes()).unwrap(), blob);
}

#[test]
fn malformed_ciphertexts_are_refused_by_class() {
    let mut blob = header().to_bytes().to_vec();
    blob.extend_from_slice(&[0u8; 28]);
    assert!(CiphertextHeader::parse(&blob[..10]).is_err());
    assert!(CiphertextHeader::parse(&blob[..HEADER_LEN + 27]).is_err());
    let mut bad = blob.clone();
    bad[0] = b'X';
    assert!(CiphertextHeader::parse(&bad).is_err());
    let mut bad = blob.clone();
    bad[3] = 2;
    assert!(CiphertextHeader::parse(&bad).is_err());
    let mut bad = blob.clone();
    bad[4] = 9;
    assert!(CiphertextHeader::parse(&bad).is_err());
    let mut bad = blob.clone();
    bad[21..25].copy_from_slice(&[0; 4]);
    assert!(CiphertextHeader::parse(&bad).is_err());
    assert!(from_text("vault:v1:abc").is_err());
    assert!(from_text("kms:v1:!!!").is_err());
}

proptest::proptest! {
    #[test]
    fn parser_never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        let _ = CiphertextHeader::parse(&data);
        let _ = from_text_or_binary(&data);
    }
}
