//! The catalog in machine-readable form (Q12): DCAT-AP 2/3 as JSON-LD and as Turtle.
//!
//! Both formats are rendered from one small in-memory graph, so the two documents for the same
//! input carry the same triples; only a catalog page's own paging links name their format
//! (`catalog.ttl?page=N` or `catalog.jsonld?page=N`). Everything here is pure: the routes fetch
//! the data and choose the page.
//!
//! The Turtle writer is written by hand: the graph is a few hundred triples over a fixed
//! vocabulary, and an RDF crate (oxttl, sophia) would bring a large dependency tree for what
//! string escaping and percent-encoding do here.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use lgsp_core::catalog::{AccessLevel, DatasetMeta, EntryContent, UpdateFrequency};
use serde_json::{json, Map, Value};

/// One dataset as published: its entry, the owner agency's name, and its dates.
pub struct Published<'a> {
    pub entry: &'a EntryContent,
    pub dataset: &'a DatasetMeta,
    pub publisher_name: &'a str,
    pub issued: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

/// Which slice of the catalog a paged document holds (1-based page number).
pub struct Page {
    pub number: usize,
    pub size: usize,
    pub total: usize,
}

impl Page {
    /// The number of the last page; an empty catalog still has page 1.
    pub fn last(&self) -> usize {
        self.total.div_ceil(self.size.max(1)).max(1)
    }
}

/// One dataset as a DCAT-AP JSON-LD document (`{base}/dataset/{id}.jsonld`).
///
/// `base` is the absolute site URL without a trailing slash, e.g. `http://127.0.0.1:8080`.
pub fn dataset_jsonld(item: &Published, base: &str) -> Value {
    let site = Site::new(base);
    jsonld_document(&dataset_graph(item, &site), &site)
}

/// One dataset as a DCAT-AP Turtle document (`{base}/dataset/{id}.ttl`).
pub fn dataset_turtle(item: &Published, base: &str) -> String {
    let site = Site::new(base);
    turtle_document(&dataset_graph(item, &site), &site)
}

/// One page of the catalog as JSON-LD: the `dcat:Catalog`, Hydra paging, and the datasets of
/// the page (`items`, already sliced by the caller) in full.
pub fn catalog_jsonld(items: &[Published], base: &str, page: &Page, title: &str) -> Value {
    let site = Site::new(base);
    let graph = catalog_graph(items, &site, page, title, Format::JsonLd);
    jsonld_document(&graph, &site)
}

/// One page of the catalog as Turtle; see [`catalog_jsonld`].
pub fn catalog_turtle(items: &[Published], base: &str, page: &Page, title: &str) -> String {
    let site = Site::new(base);
    let graph = catalog_graph(items, &site, page, title, Format::Turtle);
    turtle_document(&graph, &site)
}

/// A readable ASCII path segment for free text such as a theme or a licence name: lower case,
/// Vietnamese diacritics removed, runs of anything else turned into one `-`
/// (`Tài nguyên & Môi trường` → `tai-nguyen-moi-truong`). Letters of other scripts are kept,
/// percent-encoded, so that no name with letters gets an empty slug.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if is_combining_mark(c) {
            // Decomposed text (NFD) carries its diacritics as separate marks.
            continue;
        }
        let c = fold_vietnamese(c);
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if c.is_alphanumeric() {
            out.push_str(&segment(&c.to_string()));
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        return segment(text.trim());
    }
    trimmed.to_owned()
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

const PREFIXES: [(&str, &str); 8] = [
    ("dcat", "http://www.w3.org/ns/dcat#"),
    ("dct", "http://purl.org/dc/terms/"),
    ("foaf", "http://xmlns.com/foaf/0.1/"),
    ("vcard", "http://www.w3.org/2006/vcard/ns#"),
    ("skos", "http://www.w3.org/2004/02/skos/core#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("hydra", "http://www.w3.org/ns/hydra/core#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
];

const ACCESS_RIGHT: &str = "http://publications.europa.eu/resource/authority/access-right/";
const FREQUENCY: &str = "http://publications.europa.eu/resource/authority/frequency/";
const FILE_TYPE: &str = "http://publications.europa.eu/resource/authority/file-type/";
const LANGUAGE_VI: &str = "http://publications.europa.eu/resource/authority/language/VIE";
const MEDIA_TYPE: &str = "https://www.iana.org/assignments/media-types/";

/// Licences known by their SPDX id, published as the licence's own IRI.
const KNOWN_LICENCES: [(&str, &str); 3] = [
    ("CC-BY-4.0", "https://creativecommons.org/licenses/by/4.0/"),
    (
        "CC-BY-SA-4.0",
        "https://creativecommons.org/licenses/by-sa/4.0/",
    ),
    (
        "CC0-1.0",
        "https://creativecommons.org/publicdomain/zero/1.0/",
    ),
];

/// The catalog's description: the interface gives only its title.
const CATALOG_DESCRIPTION: &str = "Danh mục dữ liệu công bố ở dạng máy đọc được theo DCAT-AP.";

/// The catalog's publisher: the platform itself, whose operator the interface does not name.
const PLATFORM_NAME: &str = "Nền tảng tích hợp, chia sẻ dữ liệu cấp tỉnh (LGSP)";

fn access_right(level: AccessLevel) -> &'static str {
    match level {
        AccessLevel::Open | AccessLevel::Public => "PUBLIC",
        AccessLevel::Restricted => "RESTRICTED",
        AccessLevel::Personal => "NON_PUBLIC",
    }
}

fn frequency(frequency: UpdateFrequency) -> &'static str {
    match frequency {
        UpdateFrequency::Continuous => "CONT",
        UpdateFrequency::Daily => "DAILY",
        UpdateFrequency::Weekly => "WEEKLY",
        UpdateFrequency::Monthly => "MONTHLY",
        UpdateFrequency::Quarterly => "QUARTERLY",
        UpdateFrequency::Annual => "ANNUAL",
        UpdateFrequency::Irregular => "IRREG",
    }
}

/// The three ways each dataset is offered: its page and its metadata in both formats.
struct Distribution {
    key: &'static str,
    title: &'static str,
    /// The file extension of a metadata document; `None` for the landing page.
    extension: Option<&'static str>,
    media_type: &'static str,
    file_type: &'static str,
}

const DISTRIBUTIONS: [Distribution; 3] = [
    Distribution {
        key: "html",
        title: "Trang thông tin bộ dữ liệu",
        extension: None,
        media_type: "text/html",
        file_type: "HTML",
    },
    Distribution {
        key: "jsonld",
        title: "Siêu dữ liệu DCAT (JSON-LD)",
        extension: Some("jsonld"),
        media_type: "application/ld+json",
        file_type: "JSON_LD",
    },
    Distribution {
        key: "turtle",
        title: "Siêu dữ liệu DCAT (Turtle)",
        extension: Some("ttl"),
        media_type: "text/turtle",
        file_type: "RDF_TURTLE",
    },
];

/// The serialisation a catalog page is rendered in; its paging links point to the same one.
#[derive(Clone, Copy)]
enum Format {
    JsonLd,
    Turtle,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Self::JsonLd => "jsonld",
            Self::Turtle => "ttl",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// IRIs

/// An IRI that can be written between `<` and `>` in Turtle: every character Turtle forbids
/// there (spaces, controls, `<>"{}|^`\`) is percent-encoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Iri(String);

impl Iri {
    fn new(raw: &str) -> Self {
        Self(percent_encode(raw, |c| !forbidden_in_iri(c)))
    }

    fn as_str(&self) -> &str {
        &self.0
    }
}

fn forbidden_in_iri(c: char) -> bool {
    c <= ' ' || c.is_control() || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\')
}

/// Percent-encodes (UTF-8, upper-case hex) every character `keep` refuses.
fn percent_encode(text: &str, keep: impl Fn(char) -> bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if keep(c) {
            out.push(c);
            continue;
        }
        for byte in c.encode_utf8(&mut [0; 4]).bytes() {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xF)]));
        }
    }
    out
}

/// One path segment: only RFC 3986 unreserved characters are left as they are.
fn segment(text: &str) -> String {
    percent_encode(text, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
    })
}

fn is_combining_mark(c: char) -> bool {
    ('\u{300}'..='\u{36F}').contains(&c)
}

/// The ASCII letter under a lower-case Vietnamese letter with diacritics.
fn fold_vietnamese(c: char) -> char {
    const FOLDS: [(char, &str); 7] = [
        ('a', "àáảãạăằắẳẵặâầấẩẫậ"),
        ('d', "đ"),
        ('e', "èéẻẽẹêềếểễệ"),
        ('i', "ìíỉĩị"),
        ('o', "òóỏõọôồốổỗộơờớởỡợ"),
        ('u', "ùúủũụưừứửữự"),
        ('y', "ỳýỷỹỵ"),
    ];
    FOLDS
        .iter()
        .find(|(_, accented)| accented.contains(c))
        .map_or(c, |(plain, _)| *plain)
}

/// The IRIs this module mints, all under the site's base URL.
struct Site {
    base: String,
}

impl Site {
    fn new(base: &str) -> Self {
        Self {
            base: Iri::new(base.trim_end_matches('/')).0,
        }
    }

    fn iri(&self, path: &str) -> Iri {
        Iri::new(&format!("{}{path}", self.base))
    }

    fn namespace(&self) -> String {
        format!("{}/ns#", self.base)
    }

    fn home(&self) -> Iri {
        self.iri("/")
    }

    fn platform(&self) -> Iri {
        self.iri("/#platform")
    }

    fn catalog(&self) -> Iri {
        self.iri("/catalog")
    }

    fn page(&self, format: Format, number: usize) -> Iri {
        self.iri(&format!("/catalog.{}?page={number}", format.extension()))
    }

    fn entry(&self, code: &str) -> Iri {
        self.iri(&format!("/catalog/{}", segment(code)))
    }

    fn dataset(&self, id: &str) -> Iri {
        self.iri(&format!("/dataset/{}", segment(id)))
    }

    /// A node that exists only inside a dataset's description, e.g. `#contact`.
    fn dataset_part(&self, id: &str, fragment: &str) -> Iri {
        self.iri(&format!("/dataset/{}#{fragment}", segment(id)))
    }

    fn dataset_file(&self, id: &str, extension: &str) -> Iri {
        self.iri(&format!("/dataset/{}.{extension}", segment(id)))
    }

    fn agency(&self, code: &str) -> Iri {
        self.iri(&format!("/agency/{}", segment(code)))
    }

    fn theme(&self, label: &str) -> Iri {
        self.iri(&format!("/theme/{}", slug(label)))
    }

    fn licence(&self, name: &str) -> Iri {
        match known_licence(name) {
            Some(iri) => Iri::new(iri),
            None => self.iri(&format!("/licence/{}", slug(name))),
        }
    }
}

/// The IRI of a licence named by its SPDX id in [`KNOWN_LICENCES`].
fn known_licence(name: &str) -> Option<&'static str> {
    KNOWN_LICENCES
        .iter()
        .find(|(spdx, _)| spdx.eq_ignore_ascii_case(name.trim()))
        .map(|(_, iri)| *iri)
}

fn mailto(email: &str) -> Iri {
    Iri::new(&format!(
        "mailto:{}",
        percent_encode(email, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '@' | '+')
        })
    ))
}

fn tel(phone: &str) -> Iri {
    let compact: String = phone.chars().filter(|c| !c.is_whitespace()).collect();
    Iri::new(&format!(
        "tel:{}",
        percent_encode(&compact, |c| {
            c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | '(' | ')')
        })
    ))
}

// ---------------------------------------------------------------------------------------------
// The graph

/// The object of a triple.
#[derive(Debug, Clone, PartialEq)]
enum Object {
    Iri(Iri),
    /// Text in Vietnamese: `"…"@vi`.
    Vietnamese(String),
    /// A code or identifier: a plain `xsd:string`.
    Plain(String),
    DateTime(DateTime<Utc>),
    Integer(usize),
}

fn vi(text: impl AsRef<str>) -> Object {
    Object::Vietnamese(text.as_ref().to_owned())
}

fn plain(text: impl AsRef<str>) -> Object {
    Object::Plain(text.as_ref().to_owned())
}

/// A subject with its types and its properties. Predicates and types are compact names over
/// [`PREFIXES`] (and `lgsp:`), never built from data.
#[derive(Debug)]
struct Node {
    id: Iri,
    types: Vec<&'static str>,
    properties: Vec<(&'static str, Object)>,
}

impl Node {
    fn new(id: Iri, types: &[&'static str]) -> Self {
        Self {
            id,
            types: types.to_vec(),
            properties: Vec::new(),
        }
    }

    /// Adds a property; the same value twice (two themes with one slug) is kept once.
    fn with(mut self, predicate: &'static str, object: Object) -> Self {
        let property = (predicate, object);
        if !self.properties.contains(&property) {
            self.properties.push(property);
        }
        self
    }

    fn with_all(
        mut self,
        predicate: &'static str,
        objects: impl IntoIterator<Item = Object>,
    ) -> Self {
        for object in objects {
            self = self.with(predicate, object);
        }
        self
    }

    fn with_optional(self, predicate: &'static str, object: Option<Object>) -> Self {
        self.with_all(predicate, object)
    }

    /// The properties grouped by predicate, in order of first use.
    fn grouped(&self) -> Vec<(&'static str, Vec<&Object>)> {
        let mut groups: Vec<(&'static str, Vec<&Object>)> = Vec::new();
        for (predicate, object) in &self.properties {
            match groups.iter_mut().find(|(p, _)| p == predicate) {
                Some((_, objects)) => objects.push(object),
                None => groups.push((predicate, vec![object])),
            }
        }
        groups
    }

    fn is_empty(&self) -> bool {
        self.types.is_empty() && self.properties.is_empty()
    }
}

/// Nodes in insertion order; a node added twice (an agency publishing several datasets, a
/// shared theme) is merged into the first, so each subject is written once. The first
/// description of a property wins: themes spelt `Đất đai` and `đất đai` share a slug, and a
/// concept must not get two `skos:prefLabel`s in one language.
#[derive(Default)]
struct Graph {
    nodes: Vec<Node>,
    index: HashMap<Iri, usize>,
}

impl Graph {
    fn add(&mut self, node: Node) {
        let Some(&at) = self.index.get(&node.id) else {
            self.index.insert(node.id.clone(), self.nodes.len());
            self.nodes.push(node);
            return;
        };
        let existing = &mut self.nodes[at];
        for kind in node.types {
            if !existing.types.contains(&kind) {
                existing.types.push(kind);
            }
        }
        for property in node.properties {
            if !existing.properties.iter().any(|(p, _)| *p == property.0) {
                existing.properties.push(property);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Builders, one per kind of node

fn dataset_graph(item: &Published, site: &Site) -> Graph {
    let mut graph = Graph::default();
    add_dataset(&mut graph, item, site);
    graph
}

fn catalog_graph(
    items: &[Published],
    site: &Site,
    page: &Page,
    title: &str,
    format: Format,
) -> Graph {
    let mut graph = Graph::default();
    graph.add(page_node(site, page, format));
    graph.add(catalog_node(items, site, title));
    graph.add(platform_node(site));
    for item in items {
        add_dataset(&mut graph, item, site);
    }
    graph
}

fn add_dataset(graph: &mut Graph, item: &Published, site: &Site) {
    let meta = item.dataset;
    graph.add(dataset_node(item, site));
    graph.add(publisher_node(item, site));
    graph.add(contact_node(meta, site));
    graph.add(licence_node(meta.licence.as_str(), site));
    for theme in &meta.themes {
        graph.add(theme_node(theme.as_str(), site));
    }
    if let Some(terms) = &meta.terms_of_use {
        graph.add(rights_node(meta, terms.as_str(), site));
    }
    graph.add(entry_node(item.entry, site));
    for distribution in &DISTRIBUTIONS {
        graph.add(distribution_node(meta, distribution, site));
    }
}

fn dataset_node(item: &Published, site: &Site) -> Node {
    let meta = item.dataset;
    let id = meta.id.as_str();
    let rights = meta
        .terms_of_use
        .as_ref()
        .map(|_| Object::Iri(site.dataset_part(id, "terms-of-use")));
    let distributions = DISTRIBUTIONS
        .iter()
        .map(|d| Object::Iri(distribution_iri(meta, d, site)));
    Node::new(site.dataset(id), &["dcat:Dataset"])
        .with("dct:identifier", plain(id))
        .with("dct:title", vi(&meta.title))
        .with("dct:description", vi(&meta.description))
        .with_all("dcat:keyword", meta.keywords.iter().map(vi))
        .with_all(
            "dcat:theme",
            meta.themes
                .iter()
                .map(|t| Object::Iri(site.theme(t.as_str()))),
        )
        .with(
            "dct:publisher",
            Object::Iri(site.agency(item.entry.owner.as_str())),
        )
        .with(
            "dcat:contactPoint",
            Object::Iri(site.dataset_part(id, "contact")),
        )
        .with("dct:issued", Object::DateTime(item.issued))
        .with("dct:modified", Object::DateTime(item.modified))
        .with(
            "dct:license",
            Object::Iri(site.licence(meta.licence.as_str())),
        )
        .with_optional("dct:rights", rights)
        .with(
            "dct:accessRights",
            eu_iri(ACCESS_RIGHT, access_right(meta.access_level)),
        )
        .with(
            "dct:accrualPeriodicity",
            eu_iri(FREQUENCY, frequency(meta.update_frequency)),
        )
        .with("dcat:landingPage", Object::Iri(site.dataset(id)))
        .with(
            "dct:isPartOf",
            Object::Iri(site.entry(item.entry.code.as_str())),
        )
        .with_all("dcat:distribution", distributions)
        .with("lgsp:sharingMode", plain(meta.sharing_mode.as_str()))
        .with_optional("lgsp:feeNote", meta.fee_note.as_ref().map(vi))
}

fn eu_iri(namespace: &str, code: &str) -> Object {
    Object::Iri(Iri::new(&format!("{namespace}{code}")))
}

fn publisher_node(item: &Published, site: &Site) -> Node {
    Node::new(
        site.agency(item.entry.owner.as_str()),
        &["foaf:Agent", "foaf:Organization"],
    )
    .with("foaf:name", vi(item.publisher_name))
}

fn contact_node(meta: &DatasetMeta, site: &Site) -> Node {
    let contact = &meta.contact;
    Node::new(
        site.dataset_part(meta.id.as_str(), "contact"),
        &["vcard:Organization", "vcard:Kind"],
    )
    .with("vcard:fn", vi(&contact.name))
    .with(
        "vcard:hasEmail",
        Object::Iri(mailto(contact.email.as_str())),
    )
    .with_optional(
        "vcard:hasTelephone",
        contact.phone.as_ref().map(|p| Object::Iri(tel(p.as_str()))),
    )
}

fn licence_node(name: &str, site: &Site) -> Node {
    // A known licence is named by its SPDX id, which is not Vietnamese text.
    let label = match known_licence(name) {
        Some(_) => plain(name),
        None => vi(name),
    };
    Node::new(site.licence(name), &["dct:LicenseDocument"]).with("rdfs:label", label)
}

fn theme_node(label: &str, site: &Site) -> Node {
    Node::new(site.theme(label), &["skos:Concept"]).with("skos:prefLabel", vi(label))
}

fn rights_node(meta: &DatasetMeta, terms: &str, site: &Site) -> Node {
    Node::new(
        site.dataset_part(meta.id.as_str(), "terms-of-use"),
        &["dct:RightsStatement"],
    )
    .with("rdfs:label", vi(terms))
}

/// The catalog entry (the shared database) a dataset belongs to.
fn entry_node(entry: &EntryContent, site: &Site) -> Node {
    Node::new(site.entry(entry.code.as_str()), &[])
        .with("dct:identifier", plain(entry.code.as_str()))
        .with("dct:title", vi(&entry.name))
}

fn distribution_iri(meta: &DatasetMeta, distribution: &Distribution, site: &Site) -> Iri {
    let fragment = format!("distribution-{}", distribution.key);
    site.dataset_part(meta.id.as_str(), &fragment)
}

fn distribution_node(meta: &DatasetMeta, distribution: &Distribution, site: &Site) -> Node {
    let id = meta.id.as_str();
    let file = distribution.extension.map(|ext| site.dataset_file(id, ext));
    let access = file.clone().unwrap_or_else(|| site.dataset(id));
    Node::new(
        distribution_iri(meta, distribution, site),
        &["dcat:Distribution"],
    )
    .with("dct:title", vi(distribution.title))
    .with("dcat:accessURL", Object::Iri(access))
    .with_optional("dcat:downloadURL", file.map(Object::Iri))
    .with(
        "dcat:mediaType",
        Object::Iri(Iri::new(&format!(
            "{MEDIA_TYPE}{}",
            distribution.media_type
        ))),
    )
    .with("dct:format", eu_iri(FILE_TYPE, distribution.file_type))
}

fn catalog_node(items: &[Published], site: &Site, title: &str) -> Node {
    let datasets = items
        .iter()
        .map(|item| Object::Iri(site.dataset(item.dataset.id.as_str())));
    Node::new(site.catalog(), &["dcat:Catalog"])
        .with("dct:title", vi(title))
        .with("dct:description", vi(CATALOG_DESCRIPTION))
        .with("dct:publisher", Object::Iri(site.platform()))
        .with("dct:language", Object::Iri(Iri::new(LANGUAGE_VI)))
        .with("foaf:homepage", Object::Iri(site.home()))
        .with_all("dcat:dataset", datasets)
}

fn platform_node(site: &Site) -> Node {
    Node::new(site.platform(), &["foaf:Agent", "foaf:Organization"])
        .with("foaf:name", vi(PLATFORM_NAME))
}

/// The document itself as a Hydra page of the catalog, as DCAT-AP feeds page their catalogs.
fn page_node(site: &Site, page: &Page, format: Format) -> Node {
    let last = page.last();
    let current = page.number.max(1);
    let link = |number: usize| Object::Iri(site.page(format, number));
    let next = (current < last).then(|| link(current + 1));
    let previous = (current > 1).then(|| link((current - 1).min(last)));
    Node::new(
        site.page(format, current),
        &["hydra:PagedCollection", "hydra:PartialCollectionView"],
    )
    .with("hydra:totalItems", Object::Integer(page.total))
    .with("hydra:itemsPerPage", Object::Integer(page.size))
    .with("hydra:first", link(1))
    .with("hydra:last", link(last))
    .with_optional("hydra:next", next)
    .with_optional("hydra:previous", previous)
}

// ---------------------------------------------------------------------------------------------
// Writers

fn turtle_document(graph: &Graph, site: &Site) -> String {
    let mut out = String::new();
    for (prefix, namespace) in PREFIXES {
        out.push_str(&format!("@prefix {prefix}: <{namespace}> .\n"));
    }
    out.push_str(&format!("@prefix lgsp: <{}> .\n", site.namespace()));
    for node in graph.nodes.iter().filter(|n| !n.is_empty()) {
        out.push('\n');
        out.push_str(&turtle_node(node));
    }
    out
}

fn turtle_node(node: &Node) -> String {
    let mut statements = Vec::new();
    if !node.types.is_empty() {
        statements.push(format!("a {}", node.types.join(", ")));
    }
    for (predicate, objects) in node.grouped() {
        let objects: Vec<String> = objects.into_iter().map(turtle_object).collect();
        statements.push(format!("{predicate} {}", objects.join(",\n        ")));
    }
    format!(
        "<{}>\n    {} .\n",
        node.id.as_str(),
        statements.join(" ;\n    ")
    )
}

fn turtle_object(object: &Object) -> String {
    match object {
        Object::Iri(iri) => format!("<{}>", iri.as_str()),
        Object::Vietnamese(text) => format!("{}@vi", turtle_string(text)),
        Object::Plain(text) => turtle_string(text),
        Object::DateTime(at) => format!("{}^^xsd:dateTime", turtle_string(&xsd_date_time(at))),
        Object::Integer(n) => n.to_string(),
    }
}

/// A Turtle `STRING_LITERAL_QUOTE`: quotes, backslashes and line breaks escaped (`ECHAR`), any
/// other control character as `\uXXXX` (`UCHAR`).
fn turtle_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn xsd_date_time(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn jsonld_document(graph: &Graph, site: &Site) -> Value {
    let mut context = Map::new();
    for (prefix, namespace) in PREFIXES {
        context.insert(prefix.to_owned(), json!(namespace));
    }
    context.insert("lgsp".to_owned(), json!(site.namespace()));
    let nodes: Vec<Value> = graph
        .nodes
        .iter()
        .filter(|n| !n.is_empty())
        .map(jsonld_node)
        .collect();
    json!({ "@context": context, "@graph": nodes })
}

fn jsonld_node(node: &Node) -> Value {
    let mut map = Map::new();
    map.insert("@id".to_owned(), json!(node.id.as_str()));
    match node.types.as_slice() {
        [] => {}
        [only] => {
            map.insert("@type".to_owned(), json!(only));
        }
        many => {
            map.insert("@type".to_owned(), json!(many));
        }
    }
    for (predicate, objects) in node.grouped() {
        let value = match objects.as_slice() {
            [only] => jsonld_object(only),
            many => Value::Array(many.iter().map(|o| jsonld_object(o)).collect()),
        };
        map.insert(predicate.to_owned(), value);
    }
    Value::Object(map)
}

fn jsonld_object(object: &Object) -> Value {
    match object {
        Object::Iri(iri) => json!({ "@id": iri.as_str() }),
        Object::Vietnamese(text) => json!({ "@value": text, "@language": "vi" }),
        Object::Plain(text) => json!(text),
        Object::DateTime(at) => json!({ "@value": xsd_date_time(at), "@type": "xsd:dateTime" }),
        Object::Integer(n) => json!(n),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const BASE: &str = "http://127.0.0.1:8080";

    /// An entry whose dataset has every optional field, in text that needs escaping.
    fn nasty_entry() -> EntryContent {
        serde_json::from_value(json!({
            "code": "CSDL.DATDAI",
            "name": "Cơ sở dữ liệu \"đất đai\"",
            "description": "Thửa đất.",
            "owner": "000.00.06.H35",
            "managing_system": "dat-dai",
            "legal_bases": [{"number": "47/2020/NĐ-CP", "date": "2020-04-09", "issuer": "Chính phủ"}],
            "data_kinds": ["master"],
            "national_relation": {"overlaps": false},
            "criteria": {
                "legal_value": {"met": true, "justification": "Ký số"},
                "master_data": {"met": true, "justification": "Dữ liệu gốc"},
                "administrative_procedures": {"met": true, "justification": "Thủ tục"}
            },
            "datasets": [{
                "id": "gia-dat", "title": "Bảng giá \"đất\" <2026>",
                "description": "Dòng 1\nDòng 2\\C:\\dữ liệu\r\n\t>kết thúc",
                "keywords": ["giá đất", "\"bảng\""], "themes": ["Đất đai", "Tài nguyên & Môi trường"],
                "access_level": "restricted", "sharing_mode": "on_request",
                "update_frequency": "quarterly", "licence": "Giấy phép dữ liệu mở tỉnh Hà Nam",
                "terms_of_use": "Ghi rõ nguồn \"Sở TN&MT\".\nKhông bán lại.",
                "fee_note": "Phí theo Thông tư 33/2019",
                "contact": {"name": "Phòng Giá đất", "email": "gia.dat+dcat@stnmt.hanam.gov.vn",
                            "phone": "0226 3852 701"}
            }, {
                "id": "ban-do", "title": "Bản đồ địa chính", "description": "Bản đồ.",
                "access_level": "open", "sharing_mode": "open", "update_frequency": "annual",
                "licence": "CC-BY-4.0", "themes": ["ĐẤT ĐAI"],
                "contact": {"name": "Phòng Đo đạc", "email": "dodac@stnmt.hanam.gov.vn"}
            }]
        }))
        .expect("the sample entry is valid")
    }

    fn published<'a>(entry: &'a EntryContent, index: usize) -> Published<'a> {
        Published {
            entry,
            dataset: &entry.datasets[index],
            publisher_name: "Sở Tài nguyên và Môi trường",
            issued: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            modified: Utc.with_ymd_and_hms(2026, 2, 3, 4, 5, 6).unwrap(),
        }
    }

    /// The node of a JSON-LD document with this `@id`.
    fn node<'v>(document: &'v Value, id: &str) -> &'v Value {
        document["@graph"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["@id"] == id)
            .unwrap_or_else(|| panic!("no node {id} in {document:#}"))
    }

    #[test]
    fn q12_dataset_jsonld_has_the_dcat_ap_mandatory_and_recommended_properties() {
        let entry = nasty_entry();
        let document = dataset_jsonld(&published(&entry, 0), BASE);
        let dataset = node(&document, "http://127.0.0.1:8080/dataset/gia-dat");
        assert_eq!(dataset["@type"], "dcat:Dataset");
        assert_eq!(dataset["dct:identifier"], "gia-dat");
        assert_eq!(dataset["dct:title"]["@language"], "vi");
        assert_eq!(dataset["dct:title"]["@value"], "Bảng giá \"đất\" <2026>");
        assert_eq!(dataset["dct:description"]["@language"], "vi");
        assert_eq!(dataset["dcat:keyword"].as_array().unwrap().len(), 2);
        assert_eq!(
            dataset["dct:modified"],
            json!({"@value": "2026-02-03T04:05:06Z", "@type": "xsd:dateTime"})
        );
        assert_eq!(dataset["dct:issued"]["@value"], "2026-01-02T03:04:05Z");
        assert_eq!(
            dataset["dct:publisher"]["@id"],
            "http://127.0.0.1:8080/agency/000.00.06.H35"
        );
        assert_eq!(
            dataset["dct:isPartOf"]["@id"],
            "http://127.0.0.1:8080/catalog/CSDL.DATDAI"
        );
        assert_eq!(
            dataset["dcat:landingPage"]["@id"],
            "http://127.0.0.1:8080/dataset/gia-dat"
        );
        assert_eq!(dataset["dcat:distribution"].as_array().unwrap().len(), 3);
        assert_eq!(dataset["lgsp:sharingMode"], "on_request");
        assert_eq!(
            dataset["lgsp:feeNote"]["@value"],
            "Phí theo Thông tư 33/2019"
        );
        assert_eq!(document["@context"]["lgsp"], "http://127.0.0.1:8080/ns#");
        for prefix in [
            "dcat", "dct", "foaf", "vcard", "skos", "xsd", "hydra", "rdfs",
        ] {
            assert!(document["@context"][prefix].is_string(), "{prefix}");
        }
    }

    #[test]
    fn q12_publisher_contact_themes_and_rights_are_described() {
        let entry = nasty_entry();
        let document = dataset_jsonld(&published(&entry, 0), BASE);
        let publisher = node(&document, "http://127.0.0.1:8080/agency/000.00.06.H35");
        assert_eq!(
            publisher["@type"],
            json!(["foaf:Agent", "foaf:Organization"])
        );
        assert_eq!(
            publisher["foaf:name"]["@value"],
            "Sở Tài nguyên và Môi trường"
        );
        let contact = node(&document, "http://127.0.0.1:8080/dataset/gia-dat#contact");
        assert_eq!(
            contact["vcard:hasEmail"]["@id"],
            "mailto:gia.dat+dcat@stnmt.hanam.gov.vn"
        );
        assert_eq!(contact["vcard:hasTelephone"]["@id"], "tel:02263852701");
        let theme = node(
            &document,
            "http://127.0.0.1:8080/theme/tai-nguyen-moi-truong",
        );
        assert_eq!(theme["@type"], "skos:Concept");
        assert_eq!(theme["skos:prefLabel"]["@value"], "Tài nguyên & Môi trường");
        let rights = node(
            &document,
            "http://127.0.0.1:8080/dataset/gia-dat#terms-of-use",
        );
        assert_eq!(rights["@type"], "dct:RightsStatement");
        let distribution = node(
            &document,
            "http://127.0.0.1:8080/dataset/gia-dat#distribution-turtle",
        );
        assert_eq!(
            distribution["dcat:downloadURL"]["@id"],
            "http://127.0.0.1:8080/dataset/gia-dat.ttl"
        );
        assert_eq!(
            distribution["dcat:mediaType"]["@id"],
            "https://www.iana.org/assignments/media-types/text/turtle"
        );
    }

    #[test]
    fn q12_licences_access_rights_and_frequencies_use_the_shared_vocabularies() {
        let entry = nasty_entry();
        let own = dataset_turtle(&published(&entry, 0), BASE);
        assert!(own.contains(
            "dct:license <http://127.0.0.1:8080/licence/giay-phep-du-lieu-mo-tinh-ha-nam>"
        ));
        assert!(own.contains("rdfs:label \"Giấy phép dữ liệu mở tỉnh Hà Nam\"@vi"));
        assert!(own.contains("authority/access-right/RESTRICTED>"));
        assert!(own.contains("authority/frequency/QUARTERLY>"));
        let cc = dataset_turtle(&published(&entry, 1), BASE);
        assert!(cc.contains("dct:license <https://creativecommons.org/licenses/by/4.0/>"));
        assert!(cc.contains("authority/access-right/PUBLIC>"));
        assert!(
            !cc.contains("dct:rights "),
            "no terms of use, no dct:rights"
        );
        assert!(!cc.contains("lgsp:feeNote"));
        assert!(!cc.contains("vcard:hasTelephone"));

        let codes: Vec<&str> = UpdateFrequency::ALL.iter().map(|f| frequency(*f)).collect();
        let expected = [
            "CONT",
            "DAILY",
            "WEEKLY",
            "MONTHLY",
            "QUARTERLY",
            "ANNUAL",
            "IRREG",
        ];
        assert_eq!(codes, expected);
        let rights: Vec<&str> = AccessLevel::ALL.iter().map(|a| access_right(*a)).collect();
        assert_eq!(rights, ["PUBLIC", "PUBLIC", "RESTRICTED", "NON_PUBLIC"]);
    }

    #[test]
    fn turtle_strings_escape_quotes_backslashes_and_line_breaks() {
        assert_eq!(
            turtle_string("a \"b\" \\ c\nd\re\tf <g> \u{8}\u{c}\u{1}\u{7f} đất"),
            r#""a \"b\" \\ c\nd\re\tf <g> \b\f\u0001\u007F đất""#
        );
        let entry = nasty_entry();
        let turtle = dataset_turtle(&published(&entry, 0), BASE);
        assert!(
            turtle.contains(r#"dct:title "Bảng giá \"đất\" <2026>"@vi"#),
            "{turtle}"
        );
        assert!(
            turtle.contains(r#"dct:description "Dòng 1\nDòng 2\\C:\\dữ liệu\r\n\t>kết thúc"@vi"#)
        );
        assert!(turtle.contains(r#""2026-02-03T04:05:06Z"^^xsd:dateTime"#));
        // Every statement ends on its own line: no raw line break inside a literal.
        for line in turtle.lines().filter(|l| l.contains('"')) {
            assert_eq!(
                line.matches('"').count() - line.matches("\\\"").count(),
                2,
                "{line}"
            );
        }
    }

    #[test]
    fn iris_percent_encode_what_turtle_forbids_and_ids_keep_to_one_segment() {
        assert_eq!(segment("a>b/c d"), "a%3Eb%2Fc%20d");
        assert_eq!(segment("000.00.06.H35"), "000.00.06.H35");
        assert_eq!(
            Iri::new("http://x/a b<c>\"{|}^`\\").as_str(),
            "http://x/a%20b%3Cc%3E%22%7B%7C%7D%5E%60%5C"
        );
        let site = Site::new("http://example.org/lgsp>/");
        assert_eq!(
            site.catalog().as_str(),
            "http://example.org/lgsp%3E/catalog"
        );
        assert_eq!(
            site.dataset("x>y").as_str(),
            "http://example.org/lgsp%3E/dataset/x%3Ey"
        );
        assert_eq!(mailto("a\"b>@x.vn").as_str(), "mailto:a%22b%3E@x.vn");
        assert_eq!(tel("+84 226 3852-701").as_str(), "tel:+842263852-701");
    }

    #[test]
    fn slugs_fold_vietnamese_and_never_come_out_empty() {
        assert_eq!(slug("Đất đai"), "dat-dai");
        // The same words decomposed (NFD): base letters followed by combining marks.
        assert_eq!(slug("Đa\u{302}\u{301}t đai"), "dat-dai");
        assert_eq!(slug("Tài nguyên & Môi trường"), "tai-nguyen-moi-truong");
        assert_eq!(slug("  Y tế, giáo dục!  "), "y-te-giao-duc");
        assert_eq!(slug("Ủy ban Ưu tiên Ỹ"), "uy-ban-uu-tien-y");
        assert_eq!(slug("日本"), "%E6%97%A5%E6%9C%AC");
        assert_eq!(slug("***"), "%2A%2A%2A");
    }

    #[test]
    fn pages_link_first_last_next_and_previous_when_they_exist() {
        let links = |number, total, format| {
            let page = Page {
                number,
                size: 10,
                total,
            };
            let site = Site::new(BASE);
            let node = page_node(&site, &page, format);
            let link = |p| {
                node.properties
                    .iter()
                    .find(|(q, _)| *q == p)
                    .map(|(_, o)| match o {
                        Object::Iri(iri) => iri.as_str().rsplit('=').next().unwrap().to_owned(),
                        other => panic!("{other:?}"),
                    })
            };
            (
                link("hydra:first"),
                link("hydra:last"),
                link("hydra:previous"),
                link("hydra:next"),
            )
        };
        let some = |n: &str| Some(n.to_owned());
        assert_eq!(
            links(2, 45, Format::Turtle),
            (some("1"), some("5"), some("1"), some("3"))
        );
        assert_eq!(
            links(1, 45, Format::Turtle),
            (some("1"), some("5"), None, some("2"))
        );
        assert_eq!(
            links(5, 45, Format::Turtle),
            (some("1"), some("5"), some("4"), None)
        );
        assert_eq!(
            links(1, 0, Format::Turtle),
            (some("1"), some("1"), None, None)
        );
        assert_eq!(
            links(9, 45, Format::Turtle),
            (some("1"), some("5"), some("5"), None)
        );
        assert_eq!(
            Page {
                number: 1,
                size: 0,
                total: 3
            }
            .last(),
            3
        );

        let entry = nasty_entry();
        let items = [published(&entry, 0)];
        let page = Page {
            number: 2,
            size: 1,
            total: 3,
        };
        let jsonld = catalog_jsonld(&items, BASE, &page, "Danh mục");
        let view = node(&jsonld, "http://127.0.0.1:8080/catalog.jsonld?page=2");
        assert_eq!(view["hydra:totalItems"], 3);
        assert_eq!(view["hydra:itemsPerPage"], 1);
        assert_eq!(
            view["hydra:next"]["@id"],
            "http://127.0.0.1:8080/catalog.jsonld?page=3"
        );
        assert_eq!(
            view["hydra:previous"]["@id"],
            "http://127.0.0.1:8080/catalog.jsonld?page=1"
        );
        let turtle = catalog_turtle(&items, BASE, &page, "Danh mục");
        assert!(turtle.contains("<http://127.0.0.1:8080/catalog.ttl?page=2>\n    a hydra:PagedCollection, hydra:PartialCollectionView ;"));
        assert!(turtle.contains("hydra:last <http://127.0.0.1:8080/catalog.ttl?page=3>"));
        assert!(!turtle.contains("catalog.jsonld"));
    }

    #[test]
    fn q12_catalog_links_every_dataset_of_the_page_and_describes_shared_nodes_once() {
        let entry = nasty_entry();
        let items = [published(&entry, 0), published(&entry, 1)];
        let page = Page {
            number: 1,
            size: 2,
            total: 2,
        };
        let document = catalog_jsonld(&items, BASE, &page, "Danh mục CSDL \"tỉnh\"");
        let catalog = node(&document, "http://127.0.0.1:8080/catalog");
        assert_eq!(catalog["@type"], "dcat:Catalog");
        assert_eq!(catalog["dct:title"]["@value"], "Danh mục CSDL \"tỉnh\"");
        assert_eq!(
            catalog["dcat:dataset"],
            json!([
                {"@id": "http://127.0.0.1:8080/dataset/gia-dat"},
                {"@id": "http://127.0.0.1:8080/dataset/ban-do"}
            ])
        );
        assert!(catalog["dct:publisher"]["@id"].is_string());
        node(&document, "http://127.0.0.1:8080/dataset/ban-do");
        let graph = document["@graph"].as_array().unwrap();
        let agency = "http://127.0.0.1:8080/agency/000.00.06.H35";
        assert_eq!(graph.iter().filter(|n| n["@id"] == agency).count(), 1);
        let theme = node(&document, "http://127.0.0.1:8080/theme/dat-dai");
        assert_eq!(
            theme["skos:prefLabel"]["@value"], "Đất đai",
            "one label: {theme}"
        );
        assert!(graph.iter().all(|n| n["hydra:next"].is_null()));
    }

    #[test]
    fn both_formats_write_every_node_with_every_predicate() {
        let entry = nasty_entry();
        let items = [published(&entry, 0), published(&entry, 1)];
        let page = Page {
            number: 1,
            size: 2,
            total: 2,
        };
        let jsonld = catalog_jsonld(&items, BASE, &page, "Danh mục");
        let turtle = catalog_turtle(&items, BASE, &page, "Danh mục");
        let blocks: HashMap<&str, &str> = turtle
            .split("\n\n")
            .skip(1)
            .map(|block| (block.split_once('\n').unwrap().0, block))
            .collect();
        let nodes = jsonld["@graph"].as_array().unwrap();
        assert_eq!(nodes.len(), blocks.len());
        for node in nodes {
            // Only the page's own IRI names the format.
            let id = node["@id"].as_str().unwrap().replace(".jsonld?", ".ttl?");
            let subject = format!("<{id}>");
            let block = blocks.get(subject.as_str()).expect(&subject);
            for key in node.as_object().unwrap().keys().filter(|k| *k != "@id") {
                let predicate = if key == "@type" { "a" } else { key };
                assert!(
                    block.contains(&format!("\n    {predicate} ")),
                    "{key} in {block}"
                );
            }
        }
    }
}
