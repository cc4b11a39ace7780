//! Checkpoints as C2SP signed notes: a text body (origin, tree size, root hash) followed by a
//! blank line and signature lines `— <key name> <base64(key id ‖ Ed25519 signature)>`.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::Hash;

/// The algorithm byte of Ed25519 note keys.
const ED25519: u8 = 0x01;

/// A note, key or checkpoint that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    #[error("malformed verifier key")]
    BadKey,
    #[error("no signature by key {0}")]
    Unsigned(String),
    #[error("the signature by key {0} does not verify")]
    BadSignature(String),
}

/// The 4-byte key id of an Ed25519 note key: SHA-256(name ‖ LF ‖ 0x01 ‖ public key)[..4].
fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([ED25519]);
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['+', ' ', '\n']) && !name.chars().any(char::is_whitespace)
}

/// Signs notes with an Ed25519 key under a name (conventionally the log's origin).
pub struct NoteSigner {
    name: String,
    key: SigningKey,
    id: [u8; 4],
}

impl NoteSigner {
    pub fn new(name: &str, key: SigningKey) -> Result<Self, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::BadKey);
        }
        let id = key_id(name, &key.verifying_key());
        Ok(Self {
            name: name.to_owned(),
            key,
            id,
        })
    }

    /// Parses a signer key, `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>`.
    pub fn parse(skey: &str) -> Result<Self, NoteError> {
        let rest = skey.strip_prefix("PRIVATE+KEY+").ok_or(NoteError::BadKey)?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(seed)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::BadKey);
        };
        let raw = BASE64.decode(seed).map_err(|_| NoteError::BadKey)?;
        let (&[ED25519], seed) = raw.split_at_checked(1).ok_or(NoteError::BadKey)? else {
            return Err(NoteError::BadKey);
        };
        let seed: [u8; 32] = seed.try_into().map_err(|_| NoteError::BadKey)?;
        let signer = Self::new(name, SigningKey::from_bytes(&seed))?;
        if id != hex(&signer.id) {
            return Err(NoteError::BadKey);
        }
        Ok(signer)
    }

    /// The matching verifier key, `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.
    pub fn verifier_key(&self) -> String {
        let mut public = vec![ED25519];
        public.extend_from_slice(self.key.verifying_key().as_bytes());
        format!("{}+{}+{}", self.name, hex(&self.id), BASE64.encode(public))
    }

    /// The signed note of `text` (which must end with a newline).
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        if !text.ends_with('\n') || text.contains("\n\n") {
            return Err(NoteError::Malformed(
                "the text must end in one newline and hold no blank line",
            ));
        }
        let signature = self.key.sign(text.as_bytes());
        let mut blob = self.id.to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        Ok(format!(
            "{text}\n\u{2014} {} {}\n",
            self.name,
            BASE64.encode(blob)
        ))
    }
}

/// Verifies notes signed by one named Ed25519 key.
#[derive(Debug, Clone)]
pub struct NoteVerifier {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Parses a verifier key, `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::BadKey);
        };
        let raw = BASE64.decode(key).map_err(|_| NoteError::BadKey)?;
        let (&[ED25519], public) = raw.split_at_checked(1).ok_or(NoteError::BadKey)? else {
            return Err(NoteError::BadKey);
        };
        let public: [u8; 32] = public.try_into().map_err(|_| NoteError::BadKey)?;
        let key = VerifyingKey::from_bytes(&public).map_err(|_| NoteError::BadKey)?;
        let expected = key_id(name, &key);
        if !valid_name(name) || id != hex(&expected) {
            return Err(NoteError::BadKey);
        }
        Ok(Self {
            name: name.to_owned(),
            id: expected,
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks `note` carries a valid signature by this key; returns its text.
    pub fn verify<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let split = note
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let (text, signatures) = (&note[..split + 1], &note[split + 2..]);
        if !signatures.ends_with('\n') {
            return Err(NoteError::Malformed("signatures must end with a newline"));
        }
        for line in signatures.lines() {
            let line = line.strip_prefix("\u{2014} ").ok_or(NoteError::Malformed(
                "a signature line must start with an em dash",
            ))?;
            let (name, blob) = line.split_once(' ').ok_or(NoteError::Malformed(
                "a signature line needs a name and a signature",
            ))?;
            let blob = BASE64
                .decode(blob)
                .map_err(|_| NoteError::Malformed("a signature is not base64"))?;
            if name != self.name || blob.len() < 4 || blob[..4] != self.id {
                continue;
            }
            let signature = Signature::from_slice(&blob[4..])
                .map_err(|_| NoteError::BadSignature(self.name.clone()))?;
            return self
                .key
                .verify(text.as_bytes(), &signature)
                .map(|()| text)
                .map_err(|_| NoteError::BadSignature(self.name.clone()));
        }
        Err(NoteError::Unsigned(self.name.clone()))
    }
}

/// The body of a checkpoint (C2SP `tlog-checkpoint`): the log's origin, its size and root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The checkpoint's text, to be signed.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        )
    }

    /// Parses a checkpoint's text (extension lines after the root are allowed and ignored).
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let mut lines = text.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(NoteError::Malformed("no origin line"))?;
        let size = lines
            .next()
            .filter(|s| s == &"0" || (!s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit())))
            .and_then(|s| s.parse().ok())
            .ok_or(NoteError::Malformed(
                "the size line is not a decimal number",
            ))?;
        let root = lines
            .next()
            .and_then(|r| BASE64.decode(r).ok())
            .and_then(|r| Hash::try_from(r).ok())
            .ok_or(NoteError::Malformed(
                "the root line is not a base64 SHA-256 hash",
            ))?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    /// Verifies a signed checkpoint note with `verifier` and parses it.
    pub fn open(note: &str, verifier: &NoteVerifier) -> Result<Self, NoteError> {
        Self::parse(verifier.verify(note)?)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
