"""Nothing reaches a reader without passing here: small-count suppression and record-level risk
(``disclosure``), the table stamp every published table carries (``publish``) and the scanner
that looks for identifiers in anything about to be published (``scanner``)."""
