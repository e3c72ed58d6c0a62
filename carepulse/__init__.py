"""carepulse: analytics and customer-satisfaction dashboard for customer service on Twitter/X."""

__version__ = "0.1.0"
