"""One set of builders for the tests and the benches: rows and request bodies for each resource."""
