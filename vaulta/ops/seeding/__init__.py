"""Demo data: the small demo (`seed-demo`) and the book at scale (`--customers N
--transactions M`), with the bulk loader it uses."""
