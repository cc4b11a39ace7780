//! The C2SP `tlog-tiles` layout: the tree's hashes served as immutable tiles of 256 hashes,
//! and its entries as bundles of 256, at `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`.

use crate::stored_hash_index;

/// Tile height: a tile at level `L` holds hashes of tree level `8·L`.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u16 = 256;

/// A tile of hashes, or a bundle of entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    /// Tile level; `None` for an entry bundle.
    pub level: Option<u8>,
    /// Position of the tile among the tiles of its level.
    pub index: u64,
    /// How many hashes or entries it holds, 1 to 256 (fewer only at the right edge).
    pub width: u16,
}

/// A tile path that is not one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a tile path: {0}")]
pub struct TileError(pub String);

impl Tile {
    /// The tile's path below the log's prefix, e.g. `tile/0/x001/234.p/5`.
    pub fn path(&self) -> String {
        let level = self
            .level
            .map_or_else(|| "entries".to_owned(), |l| l.to_string());
        let mut groups = Vec::new();
        let mut n = self.index;
        loop {
            groups.push(n % 1000);
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        let last = groups.len() - 1;
        let index: Vec<String> = groups
            .iter()
            .rev()
            .enumerate()
            .map(|(i, g)| {
                if i < last {
                    format!("x{g:03}")
                } else {
                    format!("{g:03}")
                }
            })
            .collect();
        let partial = if self.width < TILE_WIDTH {
            format!(".p/{}", self.width)
        } else {
            String::new()
        };
        format!("tile/{level}/{}{partial}", index.join("/"))
    }

    /// Parses a path made by [`Tile::path`]; anything else (non-canonical numbers, widths out
    /// of range, levels beyond the tree) is refused.
    pub fn parse(path: &str) -> Result<Self, TileError> {
        let bad = || TileError(path.to_owned());
        let rest = path.strip_prefix("tile/").ok_or_else(bad)?;
        let (level, rest) = rest.split_once('/').ok_or_else(bad)?;
        let level = match level {
            "entries" => None,
            l if canonical(l) => Some(l.parse::<u8>().ok().filter(|&l| l < 8).ok_or_else(bad)?),
            _ => return Err(bad()),
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((index, width)) if canonical(width) => {
                let width: u16 = width.parse().map_err(|_| bad())?;
                if width == 0 || width >= TILE_WIDTH {
                    return Err(bad());
                }
                (index, width)
            }
            Some(_) => return Err(bad()),
            None => (rest, TILE_WIDTH),
        };
        let groups: Vec<&str> = index_part.split('/').collect();
        let last = groups.len() - 1;
        let mut index: u64 = 0;
        for (i, group) in groups.iter().enumerate() {
            let digits = if i < last {
                group.strip_prefix('x').ok_or_else(bad)?
            } else {
                group
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            index = index
                .checked_mul(1000)
                .and_then(|n| n.checked_add(digits.parse().ok()?))
                .ok_or_else(bad)?;
        }
        let tile = Self {
            level,
            index,
            width,
        };
        // The canonical form has no leading x000 groups.
        if tile.path() != path {
            return Err(bad());
        }
        Ok(tile)
    }

    /// Leaves (for an entry bundle) or tree-level positions (for hashes) the tile starts at.
    pub fn first(&self) -> u64 {
        self.index * u64::from(TILE_WIDTH)
    }

    /// Whether a tree of `size` leaves holds everything the tile covers.
    pub fn is_within(&self, size: u64) -> bool {
        let end = self.first() + u64::from(self.width);
        let shift = u32::from(self.level.unwrap_or(0) * TILE_HEIGHT);
        end.checked_shl(shift)
            .filter(|covered| covered >> shift == end)
            .is_some_and(|covered| covered <= size)
    }

    /// The stored-hash indexes of a hash tile's hashes, in order; empty for an entry bundle.
    pub fn hash_indexes(&self) -> Vec<u64> {
        let Some(level) = self.level else {
            return Vec::new();
        };
        (0..u64::from(self.width))
            .map(|i| stored_hash_index(level * TILE_HEIGHT, self.first() + i))
            .collect()
    }

    /// The full or right-edge tiles at `level` a tree of `size` leaves has, for listing.
    pub fn at_edge(level: Option<u8>, size: u64) -> Option<Self> {
        let shift = u32::from(level.unwrap_or(0) * TILE_HEIGHT);
        let positions = size >> shift;
        if positions == 0 {
            return None;
        }
        let width = u64::from(TILE_WIDTH);
        let index = (positions - 1) / width;
        Some(Self {
            level,
            index,
            width: (positions - index * width) as u16,
        })
    }
}

fn canonical(number: &str) -> bool {
    !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && (number == "0" || !number.starts_with('0'))
}

/// Encodes entries as a C2SP entry bundle: each entry preceded by its length as a big-endian
/// 16-bit number. Entries longer than 65 535 bytes cannot be bundled.
pub fn encode_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Option<Vec<u8>> {
    let mut bundle = Vec::new();
    for entry in entries {
        let length = u16::try_from(entry.len()).ok()?;
        bundle.extend_from_slice(&length.to_be_bytes());
        bundle.extend_from_slice(entry);
    }
    Some(bundle)
}

/// Splits an entry bundle into its entries.
pub fn decode_bundle(mut bundle: &[u8]) -> Option<Vec<&[u8]>> {
    let mut entries = Vec::new();
    while !bundle.is_empty() {
        let (length, rest) = bundle.split_first_chunk::<2>()?;
        let length = usize::from(u16::from_be_bytes(*length));
        if rest.len() < length {
            return None;
        }
        entries.push(&rest[..length]);
        bundle = &rest[length..];
    }
    Some(entries)
}
