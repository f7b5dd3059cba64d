import JSZip from "jszip";

/**
 * Small real documents, built byte by byte so the tests own every case: PDFs with and without
 * a text layer, an encrypted one, a broken one, and a Word document. Runs in Node and in workerd.
 */

const encoder = new TextEncoder();

function escapePdfText(text: string): string {
  return text.replace(/[\\()]/g, (char) => `\\${char}`);
}

/** A PDF file from its objects (1-based numbering), with a correct cross-reference table. */
function pdfFile(objects: string[], trailerExtra = ""): Uint8Array {
  let body = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(body.length);
    body += `${index + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) body += `${String(offset).padStart(10, "0")} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R${trailerExtra} >>\nstartxref\n${xref}\n%%EOF\n`;
  // Latin-1: one byte per character, so the offsets above are byte offsets.
  return Uint8Array.from(body, (char) => char.charCodeAt(0) & 0xff);
}

function stream(content: string, extra = ""): string {
  return `<< /Length ${content.length}${extra} >>\nstream\n${content}\nendstream`;
}

/**
 * A PDF with a text layer: one page per entry, each line shown with Helvetica. `title` goes to
 * the document information dictionary; `encrypt` adds a Standard security handler whose user
 * password is not empty, so no reader opens it without the password.
 */
export function textPdf(pages: string[][], options: { title?: string; encrypt?: boolean } = {}): Uint8Array {
  const objects: string[] = [];
  const pageCount = pages.length;
  // 1 catalog, 2 pages, 3 font, then page and content pairs, then info and encryption.
  const kids = pages.map((_, index) => `${4 + index * 2} 0 R`).join(" ");
  objects.push("<< /Type /Catalog /Pages 2 0 R >>");
  objects.push(`<< /Type /Pages /Kids [${kids}] /Count ${pageCount} >>`);
  objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
  pages.forEach((lines, index) => {
    const shown = lines.map((line) => `(${escapePdfText(line)}) Tj T*`).join("\n");
    const content = `BT /F1 12 Tf 14 TL 72 720 Td\n${shown}\nET`;
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + index * 2} 0 R >>`,
    );
    objects.push(stream(content));
  });
  let trailer = "";
  if (options.title) {
    objects.push(`<< /Title (${escapePdfText(options.title)}) /Producer (Signalbox tests) >>`);
    trailer += ` /Info ${objects.length} 0 R`;
  }
  if (options.encrypt) {
    const o = "7a".repeat(32);
    const u = "5c".repeat(32);
    objects.push(`<< /Filter /Standard /V 1 /R 2 /Length 40 /O <${o}> /U <${u}> /P -44 >>`);
    trailer += ` /Encrypt ${objects.length} 0 R /ID [<${"01".repeat(16)}> <${"01".repeat(16)}>]`;
  }
  return pdfFile(objects, trailer);
}

/** A one-page PDF that is only a picture (a gray image and a filled box): no text layer, as a scan. */
export function imageOnlyPdf(): Uint8Array {
  const pixels = "00ff80ff00ff80ff00";
  const image = stream(
    `${pixels}>`,
    " /Type /XObject /Subtype /Image /Width 3 /Height 3 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /ASCIIHexDecode",
  );
  const content = "q 300 0 0 300 100 300 cm /Im1 Do Q 0.5 g 100 100 200 100 re f";
  return pdfFile([
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>",
    stream(content),
    image,
  ]);
}

/** Starts like a PDF and is nothing after: what a truncated download leaves. */
export function corruptPdf(): Uint8Array {
  return encoder.encode("%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R\n%% the rest of this file was lost\n");
}

/** A Word document (a ZIP of WordprocessingML parts) with one paragraph per entry; `heading` is styled Heading1. */
export async function docx(paragraphs: string[], heading?: string): Promise<Uint8Array> {
  const zip = new JSZip();
  zip.file(
    "[Content_Types].xml",
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>`,
  );
  zip.file(
    "_rels/.rels",
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
</Relationships>`,
  );
  const xmlText = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const body = [
    ...(heading
      ? [`<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>${xmlText(heading)}</w:t></w:r></w:p>`]
      : []),
    ...paragraphs.map((text) => `<w:p><w:r><w:t xml:space="preserve">${xmlText(text)}</w:t></w:r></w:p>`),
  ].join("");
  zip.file(
    "word/document.xml",
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
  );
  return zip.generateAsync({ type: "uint8array", compression: "DEFLATE" });
}

/** A ZIP that is not a Word document (an archive of one text file). */
export async function plainZip(): Promise<Uint8Array> {
  const zip = new JSZip();
  zip.file("notes.txt", "not a document");
  return zip.generateAsync({ type: "uint8array" });
}

/** The first bytes of a PNG image. */
export function pngBytes(): Uint8Array {
  return Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
}
