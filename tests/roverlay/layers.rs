//! Layers: commit and apply, tar slips, umoci, faults.
