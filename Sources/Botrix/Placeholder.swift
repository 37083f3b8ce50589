// Botrix domain: filled by the domain issue
