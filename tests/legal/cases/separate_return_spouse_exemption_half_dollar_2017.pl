% Text
% Ezra and Fay married on 2012-09-09. Fay had no income in 2017 and nobody claims her as a
% dependent. Ezra files a separate return for 2017 and takes the standard deduction; his salary
% was $50,000.
% By hand: §1(d). Basic standard deduction $3,000; exemptions for Ezra and, under §151(b), for his
% spouse, who has no gross income and is not another taxpayer's dependent: $4,000. Taxable
% income $43,000; §1(d)(ii): $2,767.50 + 28% of $24,550 = $9,641.50, rounded to $9,642.

% Question
% How much tax does Ezra have to pay in 2017? $9642

% Facts
:- [statutes/prolog/init].
marriage_(ezra_fay).
agent_(ezra_fay,ezra).
agent_(ezra_fay,fay).
start_(ezra_fay,"2012-09-09").
payment_(ezra_salary).
patient_(ezra_salary,ezra).
amount_(ezra_salary,50000).
start_(ezra_salary,"2017-11-30").

% Test
:- tax(ezra,2017,9642).
:- halt.
