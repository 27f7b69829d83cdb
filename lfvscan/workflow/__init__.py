"""Workflows that chain the layers: ``lfvscan run`` runs the scan, the limits and the figures.

This is the only layer above both the MPI engine (:mod:`lfvscan.scan`) and post-processing
(:mod:`lfvscan.pheno`, :mod:`lfvscan.plots`); those layers do not know about each other.
"""
