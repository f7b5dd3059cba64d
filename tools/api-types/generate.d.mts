export function generateApiTypes(document: object): Promise<string>;
