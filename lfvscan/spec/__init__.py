"""The scan specification: what a scan computes and what makes a store's identity.

A :class:`~lfvscan.spec.config.ScanConfig` (parsed from a scan TOML by
:func:`~lfvscan.spec.config.load_config`) names the targets, beam energies, boson masses, the
physics preset, the precision and the seed.  It sits below both the store (which records it and
refuses a resume under another physics) and the scan engine (which plans cells from it), so that
neither imports the other to learn what a scan is.
"""
