// Stylesheets are bundled by esbuild into one CSS file beside the script.
declare module '*.css';
