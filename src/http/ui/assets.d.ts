// The web page's stylesheet and client script are embedded in the executable as text
// (`import … with { type: "text" }`), so that it serves them with no file beside it.
declare module "*.css" {
  const text: string;
  export default text;
}
declare module "*.client.js" {
  const text: string;
  export default text;
}
declare module "*.svg" {
  const text: string;
  export default text;
}
