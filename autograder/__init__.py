"""Sandboxed autograder for the convolution course."""
