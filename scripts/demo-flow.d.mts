// Types of scripts/demo-flow.mjs, for the tests that import it.
export type FlowNode = { id: string; type: string; z?: string; wires?: string[][]; [key: string]: unknown };

export declare const CONFIG_ID: 'dashscope-tts-config';
export declare const DEMO_TAB_ID: string;
export declare const DEMO_TAB_LABEL: string;
export declare const DEMO_CONFIG_NAME: string;
export declare const DEMO_IDS: Readonly<{ hello: string; tts: string; speaker: string; events: string; finished: string; catch: string; errors: string }>;
export declare const HELLO_TEXT: string;
export declare const SAMPLE_FILE: string;
export declare const SHIPPED_SAMPLE: string;
export declare const SAMPLE_FOLDER_NAME: string;

export declare function demoFlow(options: { demo: boolean; region?: 'beijing' | 'singapore' }): FlowNode[];
export declare function regionLabel(region: string): string | undefined;
export declare function prepareSampleFolder(folder: string): string;
