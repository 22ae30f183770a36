"""Policy Assistant (政策助手): search and cited answers over Chinese education-policy documents."""

__version__ = "0.1.0"
