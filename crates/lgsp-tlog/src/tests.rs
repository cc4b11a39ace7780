//! Test vectors retyped from transparency-dev/merkle, `proof/verify_test.go` (Apache-2.0):
//! eight leaves, the roots of the trees of 1 to 8 of them, and known inclusion and
//! consistency proofs; and the signed-note example of golang.org/x/mod/sumdb/note
//! (`note_test.go`, BSD-3-Clause): the PeterNeumann key and its signature.

use super::*;
use ed25519_dalek::SigningKey;

fn h(hex: &str) -> Hash {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    bytes.try_into().unwrap()
}

fn leaves() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|hex| {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    })
    .collect()
}

const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf index, tree size, proof); the Go table counts leaves from 1, these from 0.
fn inclusion_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (0, 1, vec![]),
        (
            0,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            5,
            8,
            vec![
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            3,
            vec![h(
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            )],
        ),
        (
            1,
            5,
            vec![
                h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
    ]
}

/// (old size, new size, proof).
fn consistency_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
            ],
        ),
        (
            6,
            8,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
        (
            2,
            5,
            vec![
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ],
        ),
        (
            6,
            7,
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ],
        ),
    ]
}

/// Builds the stored hashes of a log, appending in batches of `batch` leaves.
fn build(entries: &[Vec<u8>], batch: usize) -> Vec<Hash> {
    let mut stored = Vec::new();
    let mut size = 0u64;
    for chunk in entries.chunks(batch) {
        let hashes: Vec<Hash> = chunk.iter().map(|e| leaf_hash(e)).collect();
        let added = stored_hashes_for(size, &hashes, &stored).unwrap();
        assert_eq!(stored.len() as u64, stored_hash_count(size));
        stored.extend(added);
        size += chunk.len() as u64;
    }
    assert_eq!(stored.len() as u64, stored_hash_count(size));
    stored
}

#[test]
fn roots_match_the_reference_vectors_whatever_the_batch_size() {
    let leaves = leaves();
    for batch in 1..=8 {
        let stored = build(&leaves, batch);
        for size in 1..=8u64 {
            assert_eq!(
                tree_hash(size, &stored).unwrap(),
                h(ROOTS[size as usize - 1])
            );
        }
    }
    assert_eq!(
        tree_hash(0, &Vec::new()).unwrap(),
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
}

#[test]
fn inclusion_proofs_match_the_reference_vectors_and_verify() {
    let leaves = leaves();
    let stored = build(&leaves, 3);
    for (index, size, expected) in inclusion_vectors() {
        let proof = inclusion_proof(index, size, &stored).unwrap();
        assert_eq!(proof, expected, "proof of {index} in {size}");
        let root = h(ROOTS[size as usize - 1]);
        let leaf = leaf_hash(&leaves[index as usize]);
        verify_inclusion(index, size, &leaf, &proof, &root).unwrap();
    }
}

#[test]
fn consistency_proofs_match_the_reference_vectors_and_verify() {
    let stored = build(&leaves(), 2);
    for (old, new, expected) in consistency_vectors() {
        let proof = consistency_proof(old, new, &stored).unwrap();
        assert_eq!(proof, expected, "proof {old} → {new}");
        let (r1, r2) = (h(ROOTS[old as usize - 1]), h(ROOTS[new as usize - 1]));
        verify_consistency(old, new, &r1, &r2, &proof).unwrap();
    }
}

/// The corruptions of the reference suite: every one must fail.
#[test]
fn corrupted_inclusion_proofs_are_refused() {
    let leaves = leaves();
    let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    let empty = empty_root();
    for (index, size, proof) in inclusion_vectors() {
        let root = h(ROOTS[size as usize - 1]);
        let leaf = leaf_hash(&leaves[index as usize]);
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (index.wrapping_sub(1), size, root, leaf, proof.clone()),
            (index + 1, size, root, leaf, proof.clone()),
            (index ^ 2, size, root, leaf, proof.clone()),
            (index, size * 2, root, leaf, proof.clone()),
            (index, size / 2, root, leaf, proof.clone()),
            (index, size, root, some, proof.clone()),
            (index, size, empty, leaf, proof.clone()),
            (index, size, some, leaf, proof.clone()),
            (
                index,
                size,
                root,
                leaf,
                [proof.clone(), vec![root]].concat(),
            ),
            (
                index,
                size,
                root,
                leaf,
                [vec![root], proof.clone()].concat(),
            ),
            (
                index,
                size,
                root,
                leaf,
                [vec![empty], proof.clone()].concat(),
            ),
        ];
        for i in 0..proof.len() {
            let mut wrong = proof.clone();
            wrong[i][0] ^= 8;
            probes.push((index, size, root, leaf, wrong));
        }
        if !proof.is_empty() {
            probes.push((index, size, root, leaf, proof[..proof.len() - 1].to_vec()));
        }
        if proof.len() > 1 {
            let inserted = [vec![proof[0], some], proof[1..].to_vec()].concat();
            probes.push((index, size, root, leaf, inserted));
        }
        for (n, (i, s, r, l, p)) in probes.into_iter().enumerate() {
            assert!(
                verify_inclusion(i, s, &l, &p, &r).is_err(),
                "probe {n} of leaf {index} in {size} verified"
            );
        }
    }
}

#[test]
fn corrupted_consistency_proofs_are_refused() {
    for (old, new, proof) in consistency_vectors() {
        if proof.is_empty() {
            continue;
        }
        let (r1, r2) = (h(ROOTS[old as usize - 1]), h(ROOTS[new as usize - 1]));
        let wrong_root = h("abacaba000000000000000000000000000000000000000000060061e00123456");
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (old - 1, new, r1, r2, proof.clone()),
            (old + 1, new, r1, r2, proof.clone()),
            (old ^ 2, new, r1, r2, proof.clone()),
            (old, new * 2, r1, r2, proof.clone()),
            (old, new / 2, r1, r2, proof.clone()),
            (old, new, wrong_root, r2, proof.clone()),
            (old, new, r1, wrong_root, proof.clone()),
            (old, new, r2, r1, proof.clone()),
            (old, new, r1, r2, vec![]),
            (old, new, r1, r2, [proof.clone(), vec![r1]].concat()),
            (old, new, r1, r2, [proof.clone(), vec![r2]].concat()),
            (old, new, r1, r2, [vec![r1], proof.clone()].concat()),
            (old, new, r1, r2, [vec![r2], proof.clone()].concat()),
            (old, new, r1, r2, [vec![proof[0]], proof.clone()].concat()),
            (old, new, r1, r2, proof[..proof.len() - 1].to_vec()),
        ];
        for i in 0..proof.len() {
            let mut wrong = proof.clone();
            wrong[i][0] ^= 16;
            probes.push((old, new, r1, r2, wrong));
        }
        for (n, (o, s, a, b, p)) in probes.into_iter().enumerate() {
            assert!(
                verify_consistency(o, s, &a, &b, &p).is_err(),
                "probe {n} of {old} → {new} verified"
            );
        }
    }
}

#[test]
fn trivial_consistency_cases_follow_the_reference() {
    let (a, b) = ([1u8; 32], [2u8; 32]);
    let empty = empty_root();
    assert!(verify_consistency(0, 0, &a, &b, &[]).is_err());
    assert!(verify_consistency(1, 1, &a, &b, &[]).is_err());
    assert!(verify_consistency(0, 0, &a, &a, &[]).is_ok());
    assert!(verify_consistency(0, 1, &a, &b, &[]).is_ok());
    assert!(verify_consistency(1, 1, &b, &b, &[]).is_ok());
    assert!(verify_consistency(1, 0, &a, &b, &[]).is_err());
    assert!(verify_consistency(2, 1, &a, &b, &[]).is_err());
    assert!(verify_consistency(1, 2, &a, &b, &[]).is_err());
    assert!(verify_consistency(0, 0, &empty, &empty, &[empty]).is_err());
    assert!(verify_consistency(0, 1, &empty, &empty, &[empty]).is_err());
    assert!(verify_consistency(1, 1, &empty, &empty, &[empty]).is_err());
}

/// Every proof between every pair of sizes of a larger log, against a naive recursive
/// definition of the tree hash.
#[test]
fn proofs_verify_at_every_size_of_a_larger_log() {
    fn naive(leaves: &[Hash]) -> Hash {
        if leaves.len() == 1 {
            return leaves[0];
        }
        let k = split_point(leaves.len() as u64) as usize;
        node_hash(&naive(&leaves[..k]), &naive(&leaves[k..]))
    }
    let entries: Vec<Vec<u8>> = (0..70u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let hashes: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    let stored = build(&entries, 7);
    let mut builder = TreeBuilder::new();
    assert_eq!(builder.root(), empty_root());
    for size in 1..=70u64 {
        let root = tree_hash(size, &stored).unwrap();
        builder.push(hashes[size as usize - 1]);
        assert_eq!(builder.root(), root);
        assert_eq!(root, naive(&hashes[..size as usize]));
        for index in 0..size {
            let proof = inclusion_proof(index, size, &stored).unwrap();
            verify_inclusion(index, size, &hashes[index as usize], &proof, &root).unwrap();
        }
        for old in 1..=size {
            let old_root = tree_hash(old, &stored).unwrap();
            let proof = consistency_proof(old, size, &stored).unwrap();
            verify_consistency(old, size, &old_root, &root, &proof).unwrap();
        }
    }
    // What a store fetches first is exactly what the proofs read.
    let fetched = |indexes: Vec<u64>| -> std::collections::HashMap<u64, Hash> {
        indexes
            .into_iter()
            .map(|i| (i, stored[i as usize]))
            .collect()
    };
    for (index, size) in [(0, 1), (5, 70), (69, 70), (31, 64)] {
        let map = fetched(inclusion_indexes(index, size).unwrap());
        assert_eq!(
            inclusion_proof(index, size, &map).unwrap(),
            inclusion_proof(index, size, &stored).unwrap()
        );
    }
    for (old, new) in [(1, 70), (33, 70), (64, 65), (7, 7)] {
        let map = fetched(consistency_indexes(old, new).unwrap());
        assert_eq!(
            consistency_proof(old, new, &map).unwrap(),
            consistency_proof(old, new, &stored).unwrap()
        );
    }
    for size in [1, 2, 63, 64, 70] {
        let map = fetched(edge_indexes(size));
        assert_eq!(
            tree_hash(size, &map).unwrap(),
            tree_hash(size, &stored).unwrap()
        );
        let leaf = [leaf_hash(b"next")];
        assert_eq!(
            stored_hashes_for(size, &leaf, &map).unwrap(),
            stored_hashes_for(size, &leaf, &stored).unwrap()
        );
    }
    // Each stored hash belongs to the leaf whose append wrote it.
    let mut index = 0u64;
    for leaf in 0..70u64 {
        for offset in 0..hashes_of_leaf(leaf) {
            assert_eq!(stored_hash_position(index), (leaf, offset));
            index += 1;
        }
    }
    assert_eq!(index, stored.len() as u64);
    assert!(inclusion_proof(70, 70, &stored).is_err());
    assert!(consistency_proof(71, 70, &stored).is_err());
}

#[test]
fn tile_paths_are_canonical() {
    let tile = |level, index, width| Tile {
        level,
        index,
        width,
    };
    assert_eq!(tile(Some(0), 0, 256).path(), "tile/0/000");
    assert_eq!(tile(Some(1), 1_234_067, 256).path(), "tile/1/x001/x234/067");
    assert_eq!(tile(Some(0), 5, 7).path(), "tile/0/005.p/7");
    assert_eq!(tile(None, 1000, 256).path(), "tile/entries/x001/000");
    for t in [
        tile(Some(0), 0, 256),
        tile(Some(2), 1_234_067, 3),
        tile(None, 999, 255),
    ] {
        assert_eq!(Tile::parse(&t.path()), Ok(t));
    }
    for bad in [
        "tile/0/x000/005",
        "tile/0/5",
        "tile/00/005",
        "tile/0/005.p/0",
        "tile/0/005.p/256",
        "tile/0/005.p/07",
        "tile/8/000",
        "tile/0/x1/005",
        "tile/0/005/",
        "tile/entries/0a5",
        "tiles/0/000",
    ] {
        assert!(Tile::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn tiles_hold_the_stored_hashes_of_their_level() {
    let entries: Vec<Vec<u8>> = (0..600u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let stored = build(&entries, 100);
    let edge = Tile::at_edge(Some(0), 600).unwrap();
    assert_eq!((edge.index, edge.width), (2, 88));
    assert!(edge.is_within(600) && !Tile { width: 89, ..edge }.is_within(600));
    let full = Tile {
        level: Some(0),
        index: 1,
        width: 256,
    };
    let hashes = stored.read_hashes(&full.hash_indexes()).unwrap();
    assert_eq!(hashes[0], leaf_hash(&entries[256]));
    let upper = Tile::at_edge(Some(1), 600).unwrap();
    assert_eq!((upper.index, upper.width), (0, 2));
    let subtree_roots = stored.read_hashes(&upper.hash_indexes()).unwrap();
    assert_eq!(
        node_hash(&subtree_roots[0], &subtree_roots[1]),
        tree_hash(512, &stored).unwrap()
    );
    assert_eq!(Tile::at_edge(Some(2), 600), None);

    let bundle = encode_bundle(entries.iter().map(Vec::as_slice)).unwrap();
    let decoded = decode_bundle(&bundle).unwrap();
    assert_eq!(decoded.len(), 600);
    assert_eq!(decoded[599], &entries[599][..]);
    assert!(decode_bundle(&bundle[..bundle.len() - 1]).is_none());
    assert!(encode_bundle([&[0u8; 65_536][..]]).is_none());
}

const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const NOTE_SIGNATURE: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

#[test]
fn signed_notes_match_the_reference_example_byte_for_byte() {
    let signer = NoteSigner::parse(SKEY).unwrap();
    assert_eq!(signer.verifier_key(), VKEY);
    let note = signer.sign(TEXT).unwrap();
    assert_eq!(note, format!("{TEXT}\n{NOTE_SIGNATURE}"));
    let verifier = NoteVerifier::parse(VKEY).unwrap();
    assert_eq!(verifier.verify(&note), Ok(TEXT));
    assert!(matches!(
        verifier.verify(&note.replace("cryptography", "cryptographY")),
        Err(NoteError::BadSignature(_))
    ));
    let other = NoteSigner::new("lgsp.example/log", SigningKey::from_bytes(&[7; 32])).unwrap();
    let foreign = other.sign(TEXT).unwrap();
    assert!(matches!(
        verifier.verify(&foreign),
        Err(NoteError::Unsigned(_))
    ));
    for bad in [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
        "PeterNeumann+c74f20a3",
        "PeterNeumanN+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ] {
        assert!(NoteVerifier::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn checkpoints_round_trip_and_refuse_tampering() {
    let signer =
        NoteSigner::new("lgsp.hanam.gov.vn/log", SigningKey::from_bytes(&[9; 32])).unwrap();
    let verifier = NoteVerifier::parse(&signer.verifier_key()).unwrap();
    let checkpoint = Checkpoint {
        origin: "lgsp.hanam.gov.vn/log".into(),
        size: 8,
        root: h(ROOTS[7]),
    };
    let note = signer.sign(&checkpoint.text()).unwrap();
    assert!(note.starts_with("lgsp.hanam.gov.vn/log\n8\nXcnaeacGWamtVZy3Ad7Zoqudgjqt"));
    assert_eq!(Checkpoint::open(&note, &verifier), Ok(checkpoint));
    assert!(Checkpoint::open(&note.replacen("\n8\n", "\n9\n", 1), &verifier).is_err());
    for bad in [
        "origin\n08\nAAAA\n",
        "origin\nx\nAAAA\n",
        "\n1\nAAAA\n",
        "origin\n1\nAAAA\n",
    ] {
        assert!(Checkpoint::parse(bad).is_err(), "{bad:?}");
    }
}
