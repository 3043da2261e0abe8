"""The property-based fuzz suite: generated Baseten API answers through every front end.

* :mod:`.answers` generates the answers (Hypothesis strategies) and their exact bytes;
* :mod:`.oracle` holds the invariants every outcome must keep, and their tally;
* :mod:`.test_fuzz` serves each answer from a real HTTP server on 127.0.0.1 and drives it
  through the library, the command line, the dynamic provider host, the plugin and Terraform.
"""
