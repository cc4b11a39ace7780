//! Full-text search of the catalog's datasets (Q15.2.c: "an easy search tool that finds what
//! was asked"), on tantivy.
//!
//! Every text is indexed twice: *folded* (no diacritics, no case: "dat dai" finds "Đất đai",
//! "so tu phap" finds "Sở Tư pháp") and *exact* (NFC, lower case). A query must match its
//! folded words; exact matches only add to the score, so "đất" ranks "Giá đất" above "Đạt
//! chuẩn" while still finding both. Queries are built from the words of the text, never parsed,
//! so no input is a syntax error. Facets use tantivy's facet field; the index lives in memory
//! and is rebuilt from storage at start (it is derived data).

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use tantivy::collector::{Count, DocSetCollector, FacetCollector, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    DateOptions, FacetOptions, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions,
    Value, STORED, STRING,
};
use tantivy::tokenizer::{LowerCaser, SimpleTokenizer, TextAnalyzer};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term,
};

mod fold;
mod highlight;

pub use fold::fold;

/// A dataset as the index sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchDoc {
    pub dataset_id: String,
    pub entry_code: String,
    pub entry_name: String,
    pub title: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub themes: Vec<String>,
    pub agency_code: String,
    pub agency_name: String,
    pub data_kinds: Vec<String>,
    pub access_level: String,
    pub sharing_mode: String,
    pub modified: DateTime<Utc>,
}

/// What results can be counted and filtered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Facet {
    Agency,
    Theme,
    DataKind,
    AccessLevel,
    SharingMode,
}

impl Facet {
    pub const ALL: [Facet; 5] = [
        Self::Agency,
        Self::Theme,
        Self::DataKind,
        Self::AccessLevel,
        Self::SharingMode,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agency => "agency",
            Self::Theme => "theme",
            Self::DataKind => "data_kind",
            Self::AccessLevel => "access_level",
            Self::SharingMode => "sharing_mode",
        }
    }

    pub fn parse(value: &str) -> Option<Facet> {
        Self::ALL.into_iter().find(|f| f.as_str() == value)
    }

    fn term(self, value: &str) -> tantivy::schema::Facet {
        tantivy::schema::Facet::from_path([self.as_str(), value])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Best match first; without words, newest first.
    #[default]
    Relevance,
    ModifiedDesc,
    TitleAsc,
}

#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub text: Option<String>,
    /// Each filter must hold (values of one facet are not OR-ed).
    pub filters: Vec<(Facet, String)>,
    /// Keywords the dataset must carry (exact, case-insensitive).
    pub tags: Vec<String>,
    pub modified_since: Option<DateTime<Utc>>,
    pub offset: usize,
    pub limit: usize,
    pub sort: Sort,
}

impl Default for SearchQuery {
    fn default() -> Self {
        Self {
            text: None,
            filters: Vec::new(),
            tags: Vec::new(),
            modified_since: None,
            offset: 0,
            limit: 10,
            sort: Sort::Relevance,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub dataset_id: String,
    pub entry_code: String,
    pub score: f32,
    /// The title, HTML-escaped, with matched words in `<mark>`.
    pub title_html: String,
    /// A passage of the description around the first match, likewise.
    pub snippet_html: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
    /// Per facet name: values with their counts over all matches, most frequent first.
    pub facets: BTreeMap<String, Vec<(String, u64)>>,
}

#[derive(Debug, thiserror::Error)]
#[error("search index failure: {0}")]
pub struct SearchError(#[from] tantivy::TantivyError);

/// Searched text fields: (folded field, exact field, weight).
struct TextFields {
    folded: Field,
    exact: Field,
    weight: f32,
}

struct Fields {
    dataset_id: Field,
    entry_code: Field,
    title: Field,
    description: Field,
    texts: Vec<TextFields>,
    tags: Field,
    facets: Field,
    modified: Field,
}

/// The catalog's search index.
pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
}

const FOLDED: &str = "vi_folded";
const EXACT: &str = "vi_exact";

/// (name, weight) of the searched texts.
const TEXTS: [(&str, f32); 6] = [
    ("title", 3.0),
    ("keywords", 2.0),
    ("entry_name", 1.5),
    ("agency_name", 1.5),
    ("description", 1.0),
    ("themes", 1.0),
];

/// How much an exact (diacritics-true) match adds over a folded one.
const EXACT_BOOST: f32 = 0.5;

impl SearchIndex {
    pub fn new() -> Result<Self, SearchError> {
        let mut builder = Schema::builder();
        let dataset_id = builder.add_text_field("dataset_id", STRING | STORED);
        let entry_code = builder.add_text_field("entry_code", STRING | STORED);
        let title = builder.add_text_field("title_stored", STORED);
        let description = builder.add_text_field("description_stored", STORED);
        let analysed = |tokenizer: &str| {
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(tokenizer)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
        };
        let texts = TEXTS
            .iter()
            .map(|(name, weight)| TextFields {
                folded: builder.add_text_field(&format!("{name}_folded"), analysed(FOLDED)),
                exact: builder.add_text_field(&format!("{name}_exact"), analysed(EXACT)),
                weight: *weight,
            })
            .collect();
        let tags = builder.add_text_field("tags", STRING);
        let facets = builder.add_facet_field("facets", FacetOptions::default());
        let modified =
            builder.add_date_field("modified", DateOptions::default().set_indexed().set_fast());
        let index = Index::create_in_ram(builder.build());
        let words = || {
            TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(LowerCaser)
                .build()
        };
        // Both analysers split the same way; the text is folded or normalised before it reaches
        // them (see `add_text`), which keeps the two in step without a custom token filter.
        index.tokenizers().register(FOLDED, words());
        index.tokenizers().register(EXACT, words());
        // The smallest budget tantivy takes: the catalog is small and idle memory matters.
        let writer = index.writer_with_num_threads(1, 15_000_000)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            reader,
            writer: Mutex::new(writer),
            fields: Fields {
                dataset_id,
                entry_code,
                title,
                description,
                texts,
                tags,
                facets,
                modified,
            },
        })
    }

    fn document(&self, doc: &SearchDoc) -> TantivyDocument {
        let f = &self.fields;
        let mut out = TantivyDocument::default();
        out.add_text(f.dataset_id, &doc.dataset_id);
        out.add_text(f.entry_code, &doc.entry_code);
        out.add_text(f.title, &doc.title);
        out.add_text(f.description, &doc.description);
        let values: [Vec<&str>; 6] = [
            vec![doc.title.as_str()],
            doc.keywords.iter().map(String::as_str).collect(),
            vec![doc.entry_name.as_str()],
            vec![doc.agency_name.as_str()],
            vec![doc.description.as_str()],
            doc.themes.iter().map(String::as_str).collect(),
        ];
        for (fields, texts) in f.texts.iter().zip(values) {
            for text in texts {
                out.add_text(fields.folded, fold(text));
                out.add_text(fields.exact, fold::exact(text));
            }
        }
        for keyword in &doc.keywords {
            out.add_text(f.tags, fold::exact(keyword.trim()));
        }
        let mut facet = |facet: Facet, value: &str| out.add_facet(f.facets, facet.term(value));
        facet(Facet::Agency, &doc.agency_code);
        for theme in &doc.themes {
            facet(Facet::Theme, theme);
        }
        for kind in &doc.data_kinds {
            facet(Facet::DataKind, kind);
        }
        facet(Facet::AccessLevel, &doc.access_level);
        facet(Facet::SharingMode, &doc.sharing_mode);
        out.add_date(
            f.modified,
            tantivy::DateTime::from_timestamp_micros(doc.modified.timestamp_micros()),
        );
        out
    }

    fn commit(&self, writer: &mut IndexWriter) -> Result<(), SearchError> {
        writer.commit()?;
        // Manual reload right after the commit: the next search sees the change.
        self.reader.reload()?;
        Ok(())
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        // A panic while holding the writer leaves nothing half-done that the next commit
        // would not redo, so a poisoned lock is still usable.
        self.writer
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Replaces the whole index.
    pub fn replace_all(
        &self,
        docs: impl IntoIterator<Item = SearchDoc>,
    ) -> Result<(), SearchError> {
        let mut writer = self.writer();
        writer.delete_all_documents()?;
        for doc in docs {
            writer.add_document(self.document(&doc))?;
        }
        self.commit(&mut writer)
    }

    /// Adds a dataset, or replaces the one with the same id.
    pub fn upsert(&self, doc: SearchDoc) -> Result<(), SearchError> {
        let mut writer = self.writer();
        writer.delete_term(Term::from_field_text(
            self.fields.dataset_id,
            &doc.dataset_id,
        ));
        writer.add_document(self.document(&doc))?;
        self.commit(&mut writer)
    }

    pub fn remove(&self, dataset_id: &str) -> Result<(), SearchError> {
        let mut writer = self.writer();
        writer.delete_term(Term::from_field_text(self.fields.dataset_id, dataset_id));
        self.commit(&mut writer)
    }

    /// How many datasets the index holds.
    pub fn len(&self) -> usize {
        usize::try_from(self.reader.searcher().num_docs()).unwrap_or(usize::MAX)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The query's words: each must match (folded) in some text; exact matches score more.
    fn text_query(&self, text: &str) -> Option<Box<dyn Query>> {
        let normalised = fold::exact(text);
        let words: Vec<&str> = fold::words(&normalised)
            .into_iter()
            .map(|(s, e)| &normalised[s..e])
            .take(32)
            .collect();
        if words.is_empty() {
            return None;
        }
        let clauses = words
            .iter()
            .map(|word| {
                let folded = fold(word);
                let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for fields in &self.fields.texts {
                    any.push((
                        Occur::Should,
                        boosted(fields.folded, &folded, fields.weight),
                    ));
                    any.push((
                        Occur::Should,
                        boosted(fields.exact, word, fields.weight * EXACT_BOOST),
                    ));
                }
                (
                    Occur::Must,
                    Box::new(BooleanQuery::new(any)) as Box<dyn Query>,
                )
            })
            .collect();
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    fn query(&self, query: &SearchQuery) -> Box<dyn Query> {
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(text) = query.text.as_deref().and_then(|t| self.text_query(t)) {
            must.push((Occur::Must, text));
        }
        for (facet, value) in &query.filters {
            let term = Term::from_facet(self.fields.facets, &facet.term(value));
            must.push((
                Occur::Must,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            ));
        }
        for tag in &query.tags {
            let term = Term::from_field_text(self.fields.tags, &fold::exact(tag.trim()));
            must.push((
                Occur::Must,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            ));
        }
        if let Some(since) = query.modified_since {
            let since = tantivy::DateTime::from_timestamp_micros(since.timestamp_micros());
            must.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_date(self.fields.modified, since)),
                    Bound::Unbounded,
                )),
            ));
        }
        if must.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::new(must))
        }
    }

    pub fn search(&self, query: &SearchQuery) -> Result<SearchResults, SearchError> {
        let searcher = self.reader.searcher();
        let tantivy_query = self.query(query);
        let mut facet_collector = FacetCollector::for_field("facets");
        for facet in Facet::ALL {
            facet_collector.add_facet(tantivy::schema::Facet::from_path([facet.as_str()]));
        }
        let limit = query.limit.max(1);
        let has_text = query
            .text
            .as_deref()
            .is_some_and(|t| !fold::words(t).is_empty());
        let (total, facet_counts, page): (usize, _, Vec<(f32, DocAddress)>) =
            match (query.sort, has_text) {
                (Sort::Relevance, true) => {
                    let top = TopDocs::with_limit(limit).and_offset(query.offset);
                    searcher.search(&tantivy_query, &(Count, facet_collector, top))?
                }
                (Sort::Relevance | Sort::ModifiedDesc, _) => {
                    let top = TopDocs::with_limit(limit)
                        .and_offset(query.offset)
                        .order_by_fast_field::<tantivy::DateTime>("modified", Order::Desc);
                    let (count, facets, docs) =
                        searcher.search(&tantivy_query, &(Count, facet_collector, top))?;
                    (
                        count,
                        facets,
                        docs.into_iter().map(|(_, d)| (1.0, d)).collect(),
                    )
                }
                (Sort::TitleAsc, _) => {
                    let (count, facets, all) = searcher
                        .search(&tantivy_query, &(Count, facet_collector, DocSetCollector))?;
                    let mut titled = Vec::with_capacity(all.len());
                    for address in all {
                        let doc: TantivyDocument = searcher.doc(address)?;
                        let title = stored(&doc, self.fields.title);
                        titled.push((fold(&title), title, address));
                    }
                    titled.sort();
                    let docs = titled
                        .into_iter()
                        .skip(query.offset)
                        .take(limit)
                        .map(|(_, _, address)| (1.0, address))
                        .collect();
                    (count, facets, docs)
                }
            };
        let marks = query
            .text
            .as_deref()
            .map(highlight::Marks::new)
            .unwrap_or_default();
        let mut hits = Vec::with_capacity(page.len());
        for (score, address) in page {
            let doc: TantivyDocument = searcher.doc(address)?;
            hits.push(Hit {
                dataset_id: stored(&doc, self.fields.dataset_id),
                entry_code: stored(&doc, self.fields.entry_code),
                score,
                title_html: marks.highlight(&stored(&doc, self.fields.title)),
                snippet_html: marks.snippet(&stored(&doc, self.fields.description), 40),
            });
        }
        let mut facets = BTreeMap::new();
        for facet in Facet::ALL {
            let root = tantivy::schema::Facet::from_path([facet.as_str()]);
            let mut values: Vec<(String, u64)> = facet_counts
                .get(root)
                .filter_map(|(value, count)| {
                    value.to_path().get(1).map(|v| ((*v).to_owned(), count))
                })
                .collect();
            values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            facets.insert(facet.as_str().to_owned(), values);
        }
        Ok(SearchResults {
            total,
            hits,
            facets,
        })
    }
}

fn boosted(field: Field, word: &str, weight: f32) -> Box<dyn Query> {
    let term = TermQuery::new(
        Term::from_field_text(field, word),
        IndexRecordOption::WithFreqs,
    );
    Box::new(BoostQuery::new(Box::new(term), weight))
}

fn stored(doc: &TantivyDocument, field: Field) -> String {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests;
