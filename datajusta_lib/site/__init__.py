"""The static site: ``plan`` reads ``reports.yaml`` into pages, ``cache`` decides what changed,
``kernels`` and ``execute`` run notebooks and convert them, ``output`` assembles and checks the
new site, and ``render`` runs the whole (``datajusta render``). The no-change path loads
neither pandas nor nbconvert."""
