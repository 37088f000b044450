"""Helpers the tests share: scenarios written in code, brute-force reference answers, hand-built networks and hostile inputs."""
