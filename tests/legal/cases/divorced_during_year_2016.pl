% Text
% Cora married Dev on May 5th, 2005. A decree of divorce ended the marriage on September 30th,
% 2016. Cora earned $80000 in 2016 and takes the standard deduction; she has no dependents.
% By hand: at the close of 2016 Cora is not married (§7703(a)(2): legally separated under a
% decree of divorce), nor a surviving spouse or head of household: §1(c). Standard deduction
% $3,000, exemption $2,000; taxable income $75,000; §1(c)(iii): $12,107 + 31% of $21,500 =
% $18,772.

% Question
% How much tax does Cora have to pay in 2016? $18772

% Facts
:- [statutes/prolog/init].
marriage_(cora_and_dev).
agent_(cora_and_dev,cora).
agent_(cora_and_dev,dev).
start_(cora_and_dev,"2005-05-05").
legal_separation_(cora_and_dev_divorce).
agent_(cora_and_dev_divorce,"decree of divorce").
patient_(cora_and_dev_divorce,cora_and_dev).
start_(cora_and_dev_divorce,"2016-09-30").
payment_(cora_salary).
patient_(cora_salary,cora).
amount_(cora_salary,80000).
start_(cora_salary,"2016-12-31").

% Test
:- tax(cora,2016,18772).
:- halt.
