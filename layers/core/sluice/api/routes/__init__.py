"""The endpoints, one router per resource."""
