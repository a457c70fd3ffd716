// JSON files are bundled by the extension builder (rspack); tsc leaves the import as it is.
declare module '*.json' {
  const value: any;
  export default value;
}
