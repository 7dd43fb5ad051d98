% Text
% Pia runs a print shop. Rex worked there from January 2nd to December 29th, 2017. On March
% 15th, 2017 Pia paid $3000 into the shop's plan that provides for all its employees in case
% of sickness disability, for Rex. She paid Rex $5000 in cash on June 30th, 2017 and $4000 in
% cash on December 29th, 2017 for his work. Pia had no income of her own in 2017.
% By hand: the $3,000 is a payment under a plan for employees generally on account of
% sickness disability: not wages (§3306(b)(2)(A)), and, being remuneration "referred to in the
% succeeding paragraphs", it does not count toward the $7,000 of §3306(b)(1). Of the $9,000
% paid for the work, the first $7,000 are wages; the $2,000 paid after them are not
% ((b)(1)). Pia paid wages of $1,500 or more in 2017: employer (§3306(a)(1)(A)). §3301: 6% of
% $7,000 = $420. No income: no income tax. Total $420.

% Question
% How much tax does Pia have to pay in 2017? $420

% Facts
:- [statutes/prolog/init].
business_(pia_print_shop).
agent_(pia_print_shop,pia).
service_(rex_prints).
agent_(rex_prints,rex).
patient_(rex_prints,pia).
location_(rex_prints,pia_print_shop).
start_(rex_prints,"2017-01-02").
end_(rex_prints,"2017-12-29").
plan_(print_shop_sickness_plan).
agent_(print_shop_sickness_plan,pia).
purpose_(print_shop_sickness_plan,"provide for all employees in case of sickness disability").
payment_(pia_pays_plan).
agent_(pia_pays_plan,pia).
patient_(pia_pays_plan,print_shop_sickness_plan).
beneficiary_(pia_pays_plan,rex).
amount_(pia_pays_plan,3000).
start_(pia_pays_plan,"2017-03-15").
payment_(pia_pays_rex_june).
agent_(pia_pays_rex_june,pia).
patient_(pia_pays_rex_june,rex).
purpose_(pia_pays_rex_june,rex_prints).
means_(pia_pays_rex_june,"cash").
amount_(pia_pays_rex_june,5000).
start_(pia_pays_rex_june,"2017-06-30").
payment_(pia_pays_rex_december).
agent_(pia_pays_rex_december,pia).
patient_(pia_pays_rex_december,rex).
purpose_(pia_pays_rex_december,rex_prints).
means_(pia_pays_rex_december,"cash").
amount_(pia_pays_rex_december,4000).
start_(pia_pays_rex_december,"2017-12-29").

% Test
:- tax(pia,2017,420).
:- halt.
