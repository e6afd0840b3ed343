//! Misspelt merchant names (`Перекрестог`, `Магнт`, `Спортмастр`): a word of the description that
//! is one edit (insertion, deletion, substitution or swap of neighbours) away from a one-word
//! merchant name of at least five letters. Built once as a symmetric-deletion index: every name
//! and every name with one letter left out, keyed by hash; a lookup hashes the word and its
//! one-letter deletions without allocating and confirms a hit by computing the distance.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::domain::Category;

/// Shorter words are too often ordinary words one letter away from a name.
const MIN_LEN: usize = 5;

#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u8(*b);
        }
    }
    fn write_u8(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    fn write_u64(&mut self, v: u64) {
        // The map is keyed by hashes we computed ourselves: use them as they are.
        self.0 = v;
    }
}

type FastMap<V> = HashMap<u64, V, BuildHasherDefault<Fnv>>;

/// FNV-1a of `word` with the byte at `skip` left out.
fn hash_skipping(word: &[u8], skip: Option<usize>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, b) in word.iter().enumerate() {
        if Some(i) != skip {
            h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

/// Candidates behind one hash: indexes into `words` (a few at most).
type Bucket = Vec<u32>;

pub(super) struct FuzzyIndex {
    words: Vec<(Vec<u8>, Category)>,
    buckets: FastMap<Bucket>,
}

impl FuzzyIndex {
    /// `names` are keys of one word each (no spaces), with their categories.
    pub(super) fn new(names: impl IntoIterator<Item = (String, Category)>) -> Self {
        let mut words: Vec<(Vec<u8>, Category)> = Vec::new();
        let mut buckets: FastMap<Bucket> = FastMap::default();
        for (name, category) in names {
            let bytes = name.into_bytes();
            if bytes.len() < MIN_LEN || !bytes.iter().all(u8::is_ascii_lowercase) {
                continue;
            }
            if words.iter().any(|(w, _)| *w == bytes) {
                continue;
            }
            let idx = words.len() as u32;
            for skip in std::iter::once(None).chain((0..bytes.len()).map(Some)) {
                let bucket = buckets.entry(hash_skipping(&bytes, skip)).or_default();
                if !bucket.contains(&idx) {
                    bucket.push(idx);
                }
            }
            words.push((bytes, category));
        }
        FuzzyIndex { words, buckets }
    }

    pub(super) fn len(&self) -> usize {
        self.words.len()
    }

    /// The category of the merchant a word of `key` (a normalised text) misspells, if exactly
    /// one category is that close.
    pub(super) fn find(&self, key: &str) -> Option<Category> {
        let mut found: Option<Category> = None;
        for word in key.split(' ') {
            let w = word.as_bytes();
            if w.len() < MIN_LEN || !w.iter().all(u8::is_ascii_lowercase) {
                continue;
            }
            for skip in std::iter::once(None).chain((0..w.len()).map(Some)) {
                let Some(bucket) = self.buckets.get(&hash_skipping(w, skip)) else {
                    continue;
                };
                for idx in bucket {
                    let (name, category) = &self.words[*idx as usize];
                    if within_one_edit(w, name) {
                        match found {
                            Some(c) if c != *category => return None,
                            _ => found = Some(*category),
                        }
                    }
                }
            }
            if found.is_some() {
                return found;
            }
        }
        found
    }
}

/// Optimal-string-alignment distance ≤ 1 (one insertion, deletion, substitution or swap).
fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    if la == lb {
        // One substitution, or two neighbours swapped.
        ra[1..] == rb[1..]
            || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
    } else if la > lb {
        ra[1..] == *rb
    } else {
        *ra == rb[1..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_away() {
        assert!(within_one_edit(b"magnt", b"magnit"));
        assert!(within_one_edit(b"perekrestog", b"perekrestok"));
        assert!(within_one_edit(b"perekrsetok", b"perekrestok"));
        assert!(within_one_edit(b"sportmastr", b"sportmaster"));
        assert!(!within_one_edit(b"sportmas", b"sportmaster"));
        assert!(!within_one_edit(b"abcd", b"bcda"));
    }

    #[test]
    fn finds_misspelt_names_only() {
        let index = FuzzyIndex::new([
            ("magnit".to_owned(), Category::Groceries),
            ("sportmaster".to_owned(), Category::Shopping),
            ("mts".to_owned(), Category::Telecom),
        ]);
        assert_eq!(index.len(), 2, "names under five letters are exact-only");
        assert_eq!(index.find(" oplata magnt "), Some(Category::Groceries));
        assert_eq!(index.find(" sportmastr "), Some(Category::Shopping));
        assert_eq!(index.find(" magazin "), None);
        assert_eq!(index.find(" mt "), None);
    }

    #[test]
    fn ambiguous_misspellings_are_not_guessed() {
        let index = FuzzyIndex::new([
            ("abcdef".to_owned(), Category::Groceries),
            ("abcdeg".to_owned(), Category::Shopping),
        ]);
        assert_eq!(index.find(" abcdex "), None);
    }
}
