"""Sub-commands of ``losspattern`` that live in their own modules: each has
``register(subparsers)``, which adds its parser and sets ``func``."""
