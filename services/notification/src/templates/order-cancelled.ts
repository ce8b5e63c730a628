import { html, orderReference } from './format.ts';
import { renderMessage, type Template } from './layout.ts';

/** Order cancelled by the buyer: confirm it and that the seats are released. */
export const orderCancelled: Template = (change) => {
  const reference = orderReference(change.orderId);
  return renderMessage(change, {
    subject: `Order ${reference} cancelled`,
    intro: [`Your order ${reference} was cancelled as you asked. The seats it held are released.`],
    introHtml: [
      html`Your order <strong>${reference}</strong> was cancelled as you asked. The seats it held are released.`,
    ],
    showLines: true,
  });
};
