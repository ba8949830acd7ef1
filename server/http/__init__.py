"""HTTP toolkit every feature builds its endpoints with: route records and the OpenAPI builder, JSON
errors, request bodies, security headers, metrics, the shared app keys and resources.
"""
