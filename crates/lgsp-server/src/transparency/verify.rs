//! `lgsp log verify`: what anyone holding a checkpoint can do — fetch the log's current signed
//! checkpoint, re-derive the Merkle tree from every entry bundle, and check that the tree
//! matches the current checkpoint *and* the checkpoint saved earlier (so nothing logged
//! before it was changed or removed since).

use lgsp_tlog::{
    decode_bundle, leaf_hash, Checkpoint, NoteVerifier, Tile, TreeBuilder, TILE_WIDTH,
};

/// Why a log did not verify, or could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The log contradicts a checkpoint: evidence of tampering (exit 1).
    #[error("{0}")]
    Inconsistent(String),
    /// The log or a file could not be read (exit 2).
    #[error("{0}")]
    Unavailable(String),
}

/// What a successful verification established.
#[derive(Debug)]
pub struct Verified {
    pub current: Checkpoint,
    /// The current signed note, to be saved for next time.
    pub note: String,
    pub saved_size: Option<u64>,
}

fn unavailable(what: impl std::fmt::Display) -> VerifyError {
    VerifyError::Unavailable(what.to_string())
}

async fn fetch(http: &reqwest::Client, url: &str) -> Result<Vec<u8>, VerifyError> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| unavailable(format!("{url}: {e}")))?;
    if !response.status().is_success() {
        return Err(unavailable(format!("{url}: HTTP {}", response.status())));
    }
    Ok(response
        .bytes()
        .await
        .map_err(|e| unavailable(format!("{url}: {e}")))?
        .to_vec())
}

/// Verifies the log at `base` (e.g. `https://lgsp.hanam.gov.vn`). `key` is the checkpoint
/// verifier key obtained out of band; `saved` an earlier signed checkpoint of the same log.
pub async fn verify_log(
    base: &str,
    key: &str,
    saved: Option<&str>,
) -> Result<Verified, VerifyError> {
    let verifier = NoteVerifier::parse(key.trim()).map_err(|e| unavailable(format!("key: {e}")))?;
    let saved = saved
        .map(|note| {
            Checkpoint::open(note, &verifier)
                .map_err(|e| unavailable(format!("saved checkpoint: {e}")))
        })
        .transpose()?;
    let base = base.trim_end_matches('/');
    let http = reqwest::Client::new();
    let note = String::from_utf8(fetch(&http, &format!("{base}/log/checkpoint")).await?)
        .map_err(|_| unavailable("the checkpoint is not UTF-8"))?;
    let current = Checkpoint::open(&note, &verifier)
        .map_err(|e| VerifyError::Inconsistent(format!("current checkpoint: {e}")))?;
    if let Some(saved) = &saved {
        if saved.origin != current.origin {
            return Err(unavailable(format!(
                "the saved checkpoint is of another log ({})",
                saved.origin
            )));
        }
        if saved.size > current.size {
            return Err(VerifyError::Inconsistent(format!(
                "the log shrank: {} entries now, {} in the saved checkpoint",
                current.size, saved.size
            )));
        }
    }
    let mut tree = TreeBuilder::new();
    let mut saved_root = None;
    let width = u64::from(TILE_WIDTH);
    for index in 0..current.size.div_ceil(width) {
        let tile = Tile {
            level: None,
            index,
            width: (current.size - index * width).min(width) as u16,
        };
        let bundle = fetch(&http, &format!("{base}/log/{}", tile.path())).await?;
        let entries = decode_bundle(&bundle)
            .filter(|e| e.len() == usize::from(tile.width))
            .ok_or_else(|| VerifyError::Inconsistent(format!("{} is malformed", tile.path())))?;
        for entry in entries {
            tree.push(leaf_hash(entry));
            if saved.as_ref().is_some_and(|s| s.size == tree.size()) {
                saved_root = Some(tree.root());
            }
        }
    }
    if tree.root() != current.root {
        return Err(VerifyError::Inconsistent(format!(
            "the entries do not hash to the current checkpoint's root (size {})",
            current.size
        )));
    }
    if let Some(saved) = &saved {
        let root = if saved.size == 0 {
            lgsp_tlog::empty_root()
        } else {
            saved_root.unwrap_or_default()
        };
        if root != saved.root {
            return Err(VerifyError::Inconsistent(format!(
                "the first {} entries no longer hash to the saved checkpoint's root: \
                 the log was rewritten",
                saved.size
            )));
        }
    }
    Ok(Verified {
        current,
        note,
        saved_size: saved.map(|s| s.size),
    })
}
