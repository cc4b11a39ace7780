#!/usr/bin/env python3
"""Checks the DCAT-AP documents LGSP publishes (Q12) with a real RDF parser, rdflib.

Usage:
    check_rdf.py [--format turtle|json-ld] [--kind auto|catalog|dataset] SOURCE...
    check_rdf.py --same FIRST SECOND [--same FIRST SECOND ...]

A SOURCE is a file path or an http(s) URL. Its format comes from its extension (.ttl, .jsonld,
.json) unless --format is given. Each document is parsed with rdflib and every dcat:Dataset in
it must have dct:title, dct:description, dct:publisher, dcat:contactPoint, dct:modified (an
xsd:date or xsd:dateTime), dct:license and at least one dcat:distribution. A catalog document
(--kind catalog, or in auto mode one whose file name starts with `catalog` or that holds Hydra
paging) must also hold a dcat:Catalog with dct:title and dct:publisher that links every one of
its datasets with dcat:dataset.

--same parses two documents and checks that their graphs are isomorphic. The one difference
allowed is a catalog page's own paging links, which name the format of the document they are
in (`catalog.ttl?page=N` against `catalog.jsonld?page=N`).

Prints one line per document or pair and exits 1 if any check fails. Needs rdflib >= 6
(`pip install rdflib`).
"""

import argparse
import re
import sys
from pathlib import PurePosixPath
from urllib.parse import urlparse

from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")

FORMATS = {
    ".ttl": "turtle",
    ".jsonld": "json-ld",
    ".json": "json-ld",
}
FORMAT_NAMES = {"turtle": "turtle", "ttl": "turtle", "json-ld": "json-ld", "jsonld": "json-ld"}

DATASET_REQUIRED = [
    ("dct:title", DCT.title),
    ("dct:description", DCT.description),
    ("dct:publisher", DCT.publisher),
    ("dcat:contactPoint", DCAT.contactPoint),
    ("dct:modified", DCT.modified),
    ("dct:license", DCT.license),
    ("dcat:distribution", DCAT.distribution),
]

DATE_TYPES = (XSD.date, XSD.dateTime)

PAGE_SELF_LINK = re.compile(r"/catalog\.(ttl|jsonld)\?")


class CheckError(Exception):
    """A document that could not be read or parsed."""


def path_of(source):
    """The path part of a file name or URL, for its extension and name."""
    if re.match(r"^https?://", source):
        return PurePosixPath(urlparse(source).path)
    return PurePosixPath(source)


def format_of(source, forced):
    if forced:
        return FORMAT_NAMES[forced]
    fmt = FORMATS.get(path_of(source).suffix.lower())
    if fmt is None:
        raise CheckError(f"cannot tell the format of {source}: use --format")
    return fmt


def parse(source, fmt):
    graph = Graph()
    try:
        if re.match(r"^https?://", source):
            graph.parse(location=source, format=fmt)
        else:
            graph.parse(source=source, format=fmt)
    except Exception as err:  # rdflib raises many kinds; all mean "not parsable".
        raise CheckError(f"{type(err).__name__}: {err}") from err
    return graph


def dataset_problems(graph):
    problems = []
    for dataset in sorted(graph.subjects(RDF.type, DCAT.Dataset)):
        missing = [name for name, prop in DATASET_REQUIRED if graph.value(dataset, prop) is None]
        if missing:
            problems.append(f"dataset {dataset} lacks {', '.join(missing)}")
        for modified in graph.objects(dataset, DCT.modified):
            if not isinstance(modified, Literal) or modified.datatype not in DATE_TYPES:
                problems.append(f"dataset {dataset} has dct:modified {modified!r}, not a date")
    return problems


def catalog_problems(graph):
    catalogs = list(graph.subjects(RDF.type, DCAT.Catalog))
    if not catalogs:
        return ["no dcat:Catalog in a catalog document"]
    problems = []
    for catalog in catalogs:
        for name, prop in [("dct:title", DCT.title), ("dct:publisher", DCT.publisher)]:
            if graph.value(catalog, prop) is None:
                problems.append(f"catalog {catalog} lacks {name}")
    linked = {d for c in catalogs for d in graph.objects(c, DCAT.dataset)}
    for dataset in graph.subjects(RDF.type, DCAT.Dataset):
        if dataset not in linked:
            problems.append(f"dataset {dataset} is not linked by dcat:dataset")
    for view in paging_nodes(graph):
        for name, prop in [
            ("hydra:first", HYDRA.first),
            ("hydra:last", HYDRA.last),
            ("hydra:totalItems", HYDRA.totalItems),
        ]:
            if graph.value(view, prop) is None:
                problems.append(f"paging node {view} lacks {name}")
    return problems


def paging_nodes(graph):
    kinds = (HYDRA.PagedCollection, HYDRA.PartialCollectionView)
    return {s for kind in kinds for s in graph.subjects(RDF.type, kind)}


def relative_iri_problems(graph):
    """An IRI resolved against the file's own location means the document held a relative one."""
    terms = {t for triple in graph for t in triple if isinstance(t, URIRef)}
    return [f"relative IRI resolved to {t}" for t in sorted(terms) if str(t).startswith("file:")]


def is_catalog(source, graph, kind):
    if kind != "auto":
        return kind == "catalog"
    return path_of(source).name.startswith("catalog") or bool(paging_nodes(graph))


def check_document(source, forced_format, kind):
    """Checks one document; returns whether it passed."""
    try:
        fmt = format_of(source, forced_format)
        graph = parse(source, fmt)
    except CheckError as err:
        print(f"FAIL {source}: {err}")
        return False
    catalog = is_catalog(source, graph, kind)
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    problems = dataset_problems(graph) + relative_iri_problems(graph)
    if catalog:
        problems += catalog_problems(graph)
    elif not datasets:
        problems.append("no dcat:Dataset in a dataset document")
    label = "catalog" if catalog else "dataset"
    counts = f"{len(graph)} triples, {len(datasets)} datasets"
    if problems:
        print(f"FAIL {source} [{fmt}, {label}]: {counts}: " + "; ".join(problems))
        return False
    print(f"OK   {source} [{fmt}, {label}]: {counts}")
    return True


def without_page_format(graph):
    """The graph with the format taken out of a catalog page's paging links."""

    def neutral(term):
        if isinstance(term, URIRef) and PAGE_SELF_LINK.search(term):
            return URIRef(PAGE_SELF_LINK.sub("/catalog.*?", str(term)))
        return term

    neutral_graph = Graph()
    for s, p, o in graph:
        neutral_graph.add((neutral(s), p, neutral(o)))
    return neutral_graph


def check_same(first, second, forced_format):
    """Checks that two documents carry the same triples; returns whether they do."""
    try:
        graphs = [
            without_page_format(parse(s, format_of(s, forced_format))) for s in (first, second)
        ]
    except CheckError as err:
        print(f"FAIL same {first} {second}: {err}")
        return False
    if isomorphic(*graphs):
        print(f"OK   same {first} {second}: {len(graphs[0])} triples each, isomorphic")
        return True
    _, only_first, only_second = graph_diff(to_isomorphic(graphs[0]), to_isomorphic(graphs[1]))
    print(
        f"FAIL same {first} {second}: {len(only_first)} triples only in the first, "
        f"{len(only_second)} only in the second"
    )
    for side, triples in [("first", only_first), ("second", only_second)]:
        for triple in sorted(triples)[:5]:
            print(f"     only in {side}: {' '.join(t.n3() for t in triple)}")
    return False


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="*", metavar="SOURCE", help="file path or URL")
    parser.add_argument("--format", choices=sorted(FORMAT_NAMES), help="format of every source")
    parser.add_argument("--kind", choices=["auto", "catalog", "dataset"], default="auto")
    parser.add_argument(
        "--same",
        nargs=2,
        action="append",
        default=[],
        metavar=("FIRST", "SECOND"),
        help="check that two documents are isomorphic graphs",
    )
    args = parser.parse_args(argv)
    if not args.sources and not args.same:
        parser.error("give at least one SOURCE or --same FIRST SECOND")
    results = [check_document(source, args.format, args.kind) for source in args.sources]
    results += [check_same(first, second, args.format) for first, second in args.same]
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
