"""The `convrec` command line."""
