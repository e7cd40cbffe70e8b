//! SBOM input: CycloneDX and SPDX JSON documents read back into packages.
