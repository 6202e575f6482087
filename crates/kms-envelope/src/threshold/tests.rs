use super::*;

fn key() -> FileKey {
    FileKey::from_slice(&[7u8; 32]).unwrap()
}

#[test]
fn any_k_of_n_shares_recover_the_key_and_fewer_do_not() {
    let rng = kms_core::SystemRng;
    let shares = split(&key(), 3, 5, &rng).unwrap();
    assert_eq!(shares.len(), 5);
    let pick = |ix: &[usize]| {
        ix.iter()
            .map(|i| WrappedSecret::from_slice(shares[*i].expose_secret()))
            .collect::<Vec<_>>()
    };
    for ix in [[0, 1, 2], [0, 2, 4], [4, 3, 1]] {
        assert_eq!(
            combine(&pick(&ix)).unwrap().expose_secret(),
            key().expose_secret()
        );
    }
    let two = combine(&pick(&[0, 1])).unwrap();
    assert_ne!(two.expose_secret(), key().expose_secret());
}

#[test]
fn an_extended_share_is_a_share_of_the_same_key() {
    let rng = kms_core::SystemRng;
    let shares = split(&key(), 2, 3, &rng).unwrap();
    let two = vec![
        WrappedSecret::from_slice(shares[0].expose_secret()),
        WrappedSecret::from_slice(shares[2].expose_secret()),
    ];
    let new = extend(&two, 9).unwrap();
    assert_eq!(share_id(&new), Some(9));
    let with_new = vec![WrappedSecret::from_slice(shares[1].expose_secret()), new];
    assert_eq!(
        combine(&with_new).unwrap().expose_secret(),
        key().expose_secret()
    );
}

#[test]
fn thresholds_outside_two_to_n_are_refused() {
    assert!(check(1, 3).is_err());
    assert!(check(4, 3).is_err());
    assert!(check(2, 256).is_err());
    assert!(check(2, 2).is_ok());
}
