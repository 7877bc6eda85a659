// PDF reports of an exact size: a valid one-page PDF whose bulk is an unreferenced binary stream
// object placed before the xref table, so the file still ends with %%EOF and MedRelay takes it as
// complete.

function pdfParts(title, padLength) {
  const text = title.replace(/[()\\]/g, '');
  const content = `BT /F1 18 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let head = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets = [];
  objects.forEach((o, i) => {
    offsets.push(head.length);
    head += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  offsets.push(head.length);
  head += `6 0 obj\n<< /Length ${padLength} >>\nstream\n`;
  const mid = '\nendstream\nendobj\n';
  const xref = head.length + padLength + mid.length;
  let tail = `xref\n0 7\n0000000000 65535 f \n`;
  for (const off of offsets) tail += `${String(off).padStart(10, '0')} 00000 n \n`;
  tail += `trailer\n<< /Size 7 /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return { head: Buffer.from(head, 'latin1'), tail: Buffer.from(mid + tail, 'latin1') };
}

/** A PDF of exactly `size` bytes; `padBytes(n)` supplies the filler. */
export function paddedPdf(title, size, padBytes) {
  let pad = Math.max(0, size - 1000);
  for (let i = 0; i < 10; i++) {
    const { head, tail } = pdfParts(title, pad);
    const total = head.length + pad + tail.length;
    if (total === size) return Buffer.concat([head, padBytes(pad), tail]);
    pad += size - total;
    if (pad < 0) throw new Error(`a PDF cannot be as small as ${size} bytes`);
  }
  throw new Error(`could not size a PDF to ${size} bytes`);
}
