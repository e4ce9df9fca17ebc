declare module "solc" {
  const solc: {
    compile(input: string, callbacks?: object): string;
    version(): string;
  };
  export default solc;
}
